/**
 * One run's part of `report.html` (`ReportRun`, drawn by `sim/report/`): the evaluation table
 * with its reference rows, the channel profile, precision-recall curves (the ceiling's among
 * them), simulated RSSI against distance (measured readings added by the caller when the data is
 * there) and a timeline of the pairs the detectors and the truth disagree on.
 */
import type { Environment } from "../../src/campaigns/campaign-record.js";
import type { PairDetection } from "../pipeline/detect-contacts.js";
import {
  PAIR_KEY_BASE,
  pairKey,
  type RssiDistanceSample,
  type RunData,
} from "../pipeline/run-data.js";
import type { MeasuredRssiVsDistance } from "../report/measured-rssi-vs-distance.js";
import type { ReportChannel, ReportChannelParameter, ReportRun } from "../report/report-input.js";
import { profileCampaigns } from "../world/channel-data.js";
import { nominalDeviceDb } from "../world/channel-propagation.js";
import type { ChannelProfile, Sourced } from "../world/channel-v2.js";
import type { RunEvaluation } from "./evaluate-run.js";

/** Ordered pairs put on the timeline at most (the report picks the most telling of them). */
const MAX_TIMELINE_PAIRS = 200;

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

export function reportRun(
  data: RunData,
  evaluation: RunEvaluation,
  detections: readonly PairDetection[],
  rssiVsDistance: readonly RssiDistanceSample[],
  extras: ReportRunExtras = {},
): ReportRun {
  const measured = extras.measured;
  const closeS = data.meta.closeMinutes * 60;
  const isIndex = new Set(data.indexCases);
  const truthOf = new Map<number, (typeof data.truth.pairs)[number]>();
  for (const p of data.truth.pairs) {
    truthOf.set(pairKey(p.a, p.b), p);
    truthOf.set(pairKey(p.b, p.a), p);
  }
  // Candidate pairs: close contacts and pairs some detector notified, closest in truth first.
  const candidates = new Set<number>();
  for (const p of data.truth.pairs) {
    if (p.closeS < closeS) continue;
    if (isIndex.has(p.a)) candidates.add(pairKey(p.a, p.b));
    if (isIndex.has(p.b)) candidates.add(pairKey(p.b, p.a));
  }
  for (const d of detections) if (d.notified) candidates.add(pairKey(d.index, d.receiver));
  const chosen = [...candidates]
    .sort((x, y) => (truthOf.get(y)?.closeS ?? 0) - (truthOf.get(x)?.closeS ?? 0) || x - y)
    .slice(0, MAX_TIMELINE_PAIRS);
  const wanted = new Set(chosen);
  const label = (key: number) => `${Math.floor(key / PAIR_KEY_BASE)}→${key % PAIR_KEY_BASE}`;
  const timeline: ReportRun["timeline"] = [];
  for (const key of chosen) {
    for (const [startS, endS] of truthOf.get(key)?.closeIntervals ?? [])
      timeline.push({ pair: label(key), startS, endS, kind: "truth-close" });
  }
  for (const d of detections) {
    const key = pairKey(d.index, d.receiver);
    if (!d.notified || !wanted.has(key)) continue;
    for (const [startS, endS] of d.windows)
      timeline.push({ pair: label(key), startS, endS, kind: "detected", detector: d.detector });
  }
  return {
    scenario: data.meta.scenario,
    protocol: data.meta.protocol,
    agents: data.meta.agents,
    durationS: data.meta.durationS,
    seed: data.meta.seed,
    detectors: evaluation.detectors.map((d) => ({
      name: d.name,
      precision: d.precision,
      recall: d.recall,
      f1: d.f1,
      durationErrorMin: d.durationErrorMin,
      detection: d.detection,
      continuity: d.continuity,
    })),
    prCurves: evaluation.prCurves.map((c) => ({ detector: c.detector, points: [...c.points] })),
    references: evaluation.references.map((r) => ({
      name: r.name,
      precision: r.precision,
      recall: r.recall,
      f1: r.f1,
      thresholdDbm: r.thresholdDbm,
      ...(r.name === "ceiling"
        ? {
            points:
              evaluation.referencePrCurves.find((c) => c.reference === "ceiling")?.points ?? [],
          }
        : {}),
    })),
    ...(extras.channel === undefined ? {} : { channel: extras.channel }),
    rssiVsDistance: {
      simulated: rssiVsDistance.map((p) => ({ distanceM: p.distanceM, rssiDbm: p.rssiDbm })),
      ...(measured === undefined
        ? {}
        : "missing" in measured
          ? { measured: { missing: measured.missing } }
          : {
              real: measured.points.map((p) => ({ ...p })),
              measured: { source: measured.source },
            }),
    },
    timeline,
  };
}
