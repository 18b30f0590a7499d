/**
 * One run's part of `report.html` (`ReportRun`, drawn by `sim/report/`): the evaluation table
 * with its reference rows, the channel profile, precision-recall curves (the ceiling's among
 * them), simulated RSSI against distance (measured readings added by the caller when the data is
 * there) and a timeline of the pairs the detectors and the truth disagree on.
 */
import type { Environment } from "../../src/campaigns/campaign-record.js";
import type { PairDetection } from "../pipeline/detect-contacts.js";
import type { RssiDistanceSample, RunData } from "../pipeline/run-data.js";
import type { MeasuredRssiVsDistance } from "../report/measured-rssi-vs-distance.js";
import type { ReportChannel, ReportChannelParameter, ReportRun } from "../report/report-input.js";
import { profileCampaigns } from "../world/channel-data.js";
import { nominalDeviceDb } from "../world/channel-propagation.js";
import type { ChannelProfile, Sourced } from "../world/channel-v2.js";
import type { RunEvaluation } from "./evaluate-run.js";
import { accumulateRunData, assembleReportRun } from "./run-accumulator.js";

/** What the caller adds to a run's report: its channel profile and the measured readings. */
export interface ReportRunExtras {
  channel?: ReportChannel;
  measured?: MeasuredRssiVsDistance;
}

const sourceOf = (field: Partial<Sourced<unknown>> | undefined) =>
  typeof field?.source === "string" && field.source !== "" ? field.source : "not recorded";

/** "hand 0, pocket 4.17, bag 2.93 dB", "none". */
function formatTable(values: Readonly<Record<string, number | undefined>>, unit: string): string {
  const entries = Object.entries(values).filter(([, v]) => typeof v === "number");
  return entries.length === 0
    ? "none"
    : `${entries.map(([k, v]) => `${k} ${v}`).join(", ")} ${unit}`;
}

/**
 * The report's view of a channel profile: its name (and file), description, the campaigns its
 * sources name, and its key parameters each with the source the profile records.
 */
export function reportChannel(
  profile: ChannelProfile,
  options: { file?: string; environment?: Environment } = {},
): ReportChannel {
  const parameters: ReportChannelParameter[] = [];
  const add = (name: string, value: string, field: Partial<Sourced<unknown>> | undefined) =>
    parameters.push({ name, value, source: sourceOf(field) });
  add("device terms", String(profile.devices.value), profile.devices);
  const nominalDb = nominalDeviceDb(profile);
  const ref = profile.refPowerDbm.value;
  add(
    "reference power at 1 m",
    nominalDb === 0
      ? `${ref} dBm`
      : `${ref} dBm (${Math.round((ref + nominalDb) * 100) / 100} dBm for the simulator's nominal phones)`,
    profile.refPowerDbm,
  );
  if (profile.campaignOffsetDb !== undefined)
    add(
      "campaign levels (not used)",
      formatTable(profile.campaignOffsetDb.value, "dB"),
      profile.campaignOffsetDb,
    );
  const breakpointM = profile.breakpointM.value;
  if (breakpointM === null) {
    add("path-loss exponent", `${profile.exponentNear.value} (one slope)`, profile.exponentNear);
  } else {
    add(
      "path-loss exponent",
      `${profile.exponentNear.value} up to ${breakpointM} m`,
      profile.exponentNear,
    );
    add(`path-loss exponent beyond ${breakpointM} m`, String(profile.exponentFar.value), {
      source: `${sourceOf(profile.exponentFar)}; breakpoint: ${sourceOf(profile.breakpointM)}`,
    });
  }
  add("shadowing σ", `${profile.shadowingSigmaDb.value} dB`, profile.shadowingSigmaDb);
  const tauS = profile.shadowingTauS.value;
  add(
    "shadowing time constant",
    tauS >= 3600 ? `${tauS} s (${Math.round((tauS / 3600) * 10) / 10} h)` : `${tauS} s`,
    profile.shadowingTauS,
  );
  add(
    "shadowing decorrelation distance",
    `${profile.shadowingDecorrelationM.value} m`,
    profile.shadowingDecorrelationM,
  );
  const fading = profile.fading.value;
  add(
    "fast fading",
    fading.kind === "gaussian" ? `Gaussian, σ ${fading.sigmaDb} dB` : `Rician, K ${fading.kDb} dB`,
    profile.fading,
  );
  add("carry losses", formatTable(profile.carryLossDb.value, "dB"), profile.carryLossDb);
  add(
    "environment offsets",
    formatTable(profile.environmentOffsetDb.value, "dB"),
    profile.environmentOffsetDb,
  );
  if (options.environment !== undefined)
    parameters.push({
      name: "this run's environment",
      value: `${options.environment} (${profile.environmentOffsetDb.value[options.environment] ?? 0} dB)`,
      source: 'the scenario\'s "environment"',
    });
  add(
    "sensitivity / saturation",
    `${profile.sensitivityDbm.value} / ${profile.saturationDbm.value} dBm`,
    {
      source:
        sourceOf(profile.sensitivityDbm) === sourceOf(profile.saturationDbm)
          ? sourceOf(profile.sensitivityDbm)
          : `${sourceOf(profile.sensitivityDbm)}; ${sourceOf(profile.saturationDbm)}`,
    },
  );
  return {
    name: profile.name,
    ...(options.file === undefined ? {} : { file: options.file }),
    description: typeof profile.description === "string" ? profile.description : "",
    campaigns: profileCampaigns(profile),
    parameters,
  };
}

/**
 * The run's report section for `evaluation`: the run replayed into a `RunAccumulator` for its
 * timeline (every detector in `detections` may put its notified windows there).
 */
export function reportRun(
  data: RunData,
  evaluation: RunEvaluation,
  detections: readonly PairDetection[],
  rssiVsDistance: readonly RssiDistanceSample[],
  extras: ReportRunExtras = {},
): ReportRun {
  const names = new Set(evaluation.detectors.map((d) => d.name));
  for (const d of detections) names.add(d.detector);
  const timeline = accumulateRunData(data, detections, [...names], { sightings: false }).timeline();
  return assembleReportRun(data.meta, evaluation, timeline, rssiVsDistance, extras);
}
