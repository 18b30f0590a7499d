/**
 * `proxkit evaluate --dataset NAME|all`: every shipped distance estimator and detector judged on
 * real campaigns they were not fitted on.
 *
 * 1. Each campaign with varying distances is read once (streaming) into scored instants of every
 *    estimator (`collectInstants`), plus a scan-like attenuation for the detector.
 * 2. Estimators, leave one campaign out (`leaveOneCampaignOut`).
 * 3. Our detector's two numbers are fitted the same way (`fitDetector`) on every campaign but
 *    the one it is scored on: DP-3T exp05's crowd (contact decisions against the cameras, and
 *    the DP-3T team's per-sample curve) and the Dublin tram (measured attenuation durations).
 * 4. The anechoic pairs are never scored: they calibrate the devices (`device-offsets.json`).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  balancedAccuracyInterval,
  confusionFigures,
  type DublinTramEvaluation,
  decidePairs,
  evaluateTramPairs,
} from "./evaluate-dublin-tram.js";
import { loadDublinTram } from "../src/campaigns/load-dublin-tram.js";
import { allPresets, presetFor, type RiskPreset } from "../src/exposure/risk-preset.js";
import {
  attenuationDb,
  type CalibrationTable,
  loadCalibrationTable,
} from "../src/signal/calibration-table.js";
import { deviceOffsets } from "../src/signal/device-offsets.js";
import fittedOffsets from "../src/signal/device-offsets.json" with { type: "json" };
import { ChainedEstimator } from "../src/signal/distance/distance-estimator.js";
import { RunningPercentile } from "../src/signal/filters/running-percentile.js";
import { type CampaignInstants, collectInstants } from "./campaign-instants.js";
import type { CampaignName, CampaignRecord } from "../src/campaigns/campaign-record.js";
import { CAMPAIGNS, type CampaignInfo, campaignFolder } from "../src/campaigns/campaigns.js";
import { DeviceCalibrations, recordEstimator, shippedCandidates } from "./estimator-candidates.js";
import { type Exp05ContactResult, evaluateExp05Contacts } from "./exp05-contacts.js";
import { type Exp05PerSample, exp05PerSample } from "./exp05-per-sample.js";
import { type DetectorFit, fitDetector } from "./fit-detector.js";
import { fitDeviceOffsets } from "./fit-device-offsets.js";
import {
  type EstimatorCandidate,
  evenlySpaced,
  type LeaveOneCampaignOut,
  leaveOneCampaignOut,
  TRAIN_INSTANTS_PER_CAMPAIGN,
} from "./leave-one-campaign-out.js";
import { loadDp3tExp05 } from "../src/campaigns/load-dp3t-exp05.js";

/** Google's calibration table under the data root. */
export const CALIBRATION_UNDER_DATA = "gaen/en-calibration-2020-06-13.csv";
/** The Dublin tram folder under the data root (attenuation durations, no RSSI). */
export const DUBLIN_TRAM_FOLDER = "dublin-tram";
/** Every name `--dataset` takes. */
export const DATASET_NAMES = ["all", ...CAMPAIGNS.map((c) => c.name), "dublin-tram"] as const;

/**
 * The detector's scan-like feature: the median attenuation of the last 10 s (a scan instance's
 * typical attenuation averages the sightings of one 4-20 s scan), with the receiver's table
 * correction and anechoic offset and the sender's table TX power, as `match --rx-model`
 * computes attenuation (a phone knows the sender's TX power from the AEM, not its model).
 */
export const DETECTOR_FEATURE_WINDOW_MS = 10_000;

export interface CampaignSummary {
  readonly name: string;
  readonly source: string;
  readonly description: string;
  readonly role: CampaignInfo["role"] | "detectors";
  readonly records: number;
  readonly streams: number;
  readonly instants: number;
  readonly units: number;
  /** Least-squares fit of RSSI = A - 10 n log10(d) over its records with a distance > 0. */
  readonly pathLoss?: {
    readonly rssiAt1mDbm: number;
    readonly exponent: number;
    readonly residualDb: number;
  };
}

export interface RssiPoint {
  readonly campaign: string;
  readonly carry: string;
  readonly distanceM: number;
  readonly rssiDbm: number;
}

export interface CampaignEvaluation {
  readonly dataset: string;
  readonly dataRoot: string;
  readonly calibration: string;
  readonly campaigns: readonly CampaignSummary[];
  readonly estimators: LeaveOneCampaignOut;
  /** The detector fitted on every campaign but each one it is scored on. */
  readonly detectorFits: readonly ({ readonly heldOut: string } & DetectorFit)[];
  /** The detector fitted on all the campaigns (what the proxkit preset ships). */
  readonly detectorFitAll: DetectorFit;
  /** The estimator model fitted on all the campaigns (what `proxkit` ships). */
  readonly estimatorFitAll: Readonly<Record<string, number>>;
  readonly exp05?: {
    readonly contacts: readonly Exp05ContactResult[];
    readonly perSample: Exp05PerSample;
  };
  readonly dublinTram?: {
    readonly evaluation: DublinTramEvaluation;
    /** Our detector fitted on the RSSI campaigns (none of them the tram). */
    readonly detector: {
      readonly closeAttenuationDb: number;
      readonly notifications: number;
      readonly tpr: number;
      readonly fpr: number;
      readonly balancedAccuracy: number;
      readonly balancedAccuracy95: readonly [number, number];
    };
  };
  readonly offsets: {
    readonly pairPlacements: number;
    readonly spreadBeforeDb: number;
    readonly spreadAfterDb: number;
    readonly spreadLeaveOnePlacementOutDb: number;
    readonly devices: Readonly<
      Record<string, { readonly rxOffsetDb: number; readonly txOffsetDb: number }>
    >;
    /**
     * The offsets refitted now from the anechoic records (when they were read): the spread of
     * RSSI at 1 m before and after, and the largest change from the committed values, dB.
     */
    readonly refit?: {
      readonly spreadBeforeDb: number;
      readonly spreadAfterDb: number;
      readonly maxChangeDb: number;
    };
  };
  readonly rssiVsDistance: readonly RssiPoint[];
  readonly elapsedMs: number;
}

export interface EvaluateCampaignsOptions {
  /** The folder holding the campaigns (`../shared/data`). */
  readonly dataRoot: string;
  /** "all" or one name of `DATASET_NAMES`: which figures to compute beyond the estimators. */
  readonly dataset?: string;
  /** exp05 contact rules: distances (default 2 and 1.5 m) and minutes (default 15). */
  readonly closeDistancesM?: readonly number[];
  readonly closeMinutes?: number;
  readonly resamples?: number;
  /** Progress: a phase name and a fraction of the whole. */
  readonly onProgress?: (phase: string, fraction: number) => void;
}

/** RSSI points kept per campaign for the report. */
const RSSI_POINTS_PER_CAMPAIGN = 1500;

/**
 * Our detector with the threshold fitted on the Dublin tram alone (66 dB, the default before
 * the campaigns), scored beside the cross-campaign fit to show what the change does.
 */
export const TRAM_FIT_DETECTOR = "proxkit-tram-66";
export const TRAM_FIT_DB = 66;

/** Our detector's preset with the fitted numbers. */
export function detectorPreset(fit: DetectorFit): RiskPreset {
  return {
    ...presetFor("proxkit"),
    closeAttenuationDb: Math.round(fit.closeAttenuationDb * 10) / 10,
    closeScaleDb: Math.round(fit.closeScaleDb * 100) / 100,
  };
}

/** The scan-like attenuation the detector is fitted on (see `DETECTOR_FEATURE_WINDOW_MS`). */
function detectorFeature(devices: DeviceCalibrations): EstimatorCandidate {
  return {
    name: "detector-feature",
    fitted: true,
    create: (first) => {
      const rx = devices.of(first.rxModel);
      const tx = devices.of(first.txModel);
      const rxCorrection = rx.rssiCorrectionDb - (deviceOffsets(first.rxModel)?.rxOffsetDb ?? 0);
      const txPowerDbm = tx.txPowerDbm + (deviceOffsets(first.txModel)?.txOffsetDb ?? 0);
      return new ChainedEstimator("detector-feature", {
        input: (rssiDbm) => attenuationDb(txPowerDbm, rssiDbm, rxCorrection),
        filters: [new RunningPercentile({ percentile: 50, windowMs: DETECTOR_FEATURE_WINDOW_MS })],
        model: { distanceM: (v: number) => v },
      });
    },
  };
}

/** Taps a record stream: a path-loss fit and an even sample of (carry, distance, RSSI) points. */
class RecordTap {
  private n = 0;
  private sx = 0;
  private sy = 0;
  private sxx = 0;
  private sxy = 0;
  private syy = 0;
  private seen = 0;
  readonly points: RssiPoint[] = [];

  constructor(
    private readonly campaign: string,
    private readonly stride: number,
  ) {}

  *wrap(records: Iterable<CampaignRecord>): Generator<CampaignRecord> {
    for (const r of records) {
      if (r.distanceM !== undefined && r.distanceM > 0) {
        const x = -10 * Math.log10(r.distanceM);
        this.n++;
        this.sx += x;
        this.sy += r.rssiDbm;
        this.sxx += x * x;
        this.sxy += x * r.rssiDbm;
        this.syy += r.rssiDbm * r.rssiDbm;
        if (this.seen++ % this.stride === 0)
          this.points.push({
            campaign: this.campaign,
            carry: `${r.rxCarry}/${r.txCarry}`,
            distanceM: r.distanceM,
            rssiDbm: r.rssiDbm,
          });
      }
      yield r;
    }
  }

  pathLoss(): CampaignSummary["pathLoss"] {
    if (this.n < 3) return undefined;
    const { n, sx, sy, sxx, sxy, syy } = this;
    const exponent = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    const rssiAt1mDbm = (sy - exponent * sx) / n;
    const residual =
      syy -
      2 * rssiAt1mDbm * sy -
      2 * exponent * sxy +
      n * rssiAt1mDbm ** 2 +
      2 * rssiAt1mDbm * exponent * sx +
      exponent ** 2 * sxx;
    return { rssiAt1mDbm, exponent, residualDb: Math.sqrt(Math.max(0, residual) / (n - 2)) };
  }
}

/** Approximate records per campaign, for an even sample of RSSI points and for progress. */
const EXPECTED_RECORDS: Readonly<Record<string, number>> = {
  "herald-edison": 358_298,
  "dp3t-exp05": 177_385,
  "body-position": 122_843,
  "mit-matrix": 184_023,
  "pi-multichannel": 17_390,
};

/** Runs the evaluation (see the file comment). */
export function evaluateCampaigns(options: EvaluateCampaignsOptions): CampaignEvaluation {
  const started = Date.now();
  const dataset = options.dataset ?? "all";
  const progress = options.onProgress ?? (() => {});
  const calibrationPath = join(options.dataRoot, CALIBRATION_UNDER_DATA);
  let table: CalibrationTable | undefined;
  if (existsSync(calibrationPath)) table = loadCalibrationTable(calibrationPath);
  const devices = new DeviceCalibrations(table);
  const shipped = shippedCandidates(devices);
  const candidates = [...shipped, detectorFeature(devices)];

  const scored = CAMPAIGNS.filter((c) => c.role === "estimators");
  const folders = scored.map((c) => campaignFolder(c, options.dataRoot));
  const totalRecords = scored.reduce((s, c) => s + (EXPECTED_RECORDS[c.name] ?? 100_000), 0);
  let doneRecords = 0;
  const tables: CampaignInstants[] = [];
  const summaries: CampaignSummary[] = [];
  const points: RssiPoint[] = [];
  scored.forEach((campaign, k) => {
    const expected = EXPECTED_RECORDS[campaign.name] ?? 100_000;
    const tap = new RecordTap(
      campaign.name,
      Math.max(1, Math.floor(expected / RSSI_POINTS_PER_CAMPAIGN)),
    );
    const instants = collectInstants(
      campaign.name,
      tap.wrap(campaign.load(folders[k])),
      candidates,
      {
        onStream: (records) =>
          progress(`reading ${campaign.name}`, (0.7 * (doneRecords + records)) / totalRecords),
      },
    );
    doneRecords += instants.records;
    tables.push(instants);
    points.push(...tap.points);
    summaries.push({
      name: campaign.name,
      source: campaign.source,
      description: campaign.description,
      role: campaign.role,
      records: instants.records,
      streams: instants.streams,
      instants: instants.count,
      units: instants.units.length,
      pathLoss: tap.pathLoss(),
    });
  });

  progress("leave one campaign out", 0.72);
  const estimatorTables = tables.map((t) => ({ ...t, values: t.values.slice(0, shipped.length) }));
  const estimators = leaveOneCampaignOut(estimatorTables, shipped, {
    resamples: options.resamples,
  });
  const fitAll = shipped[0].fit?.(
    estimatorTables.flatMap((t) =>
      evenlySpaced(t.count, TRAIN_INSTANTS_PER_CAMPAIGN).map((i) => ({
        value: t.values[0][i],
        distanceM: t.truthM[i],
      })),
    ),
  );

  const featureIndex = shipped.length;
  const detectorPoints = (except: string) =>
    tables
      .filter((t) => t.campaign !== except)
      .map((t) => ({
        campaign: t.campaign,
        points: evenlySpaced(t.count, TRAIN_INSTANTS_PER_CAMPAIGN).map((i) => ({
          value: t.values[featureIndex][i],
          distanceM: t.truthM[i],
        })),
      }));
  const detectorFits = ["dp3t-exp05", "dublin-tram"].map((heldOut) => ({
    heldOut,
    ...fitDetector(detectorPoints(heldOut)),
  }));
  const detectorFitAll = fitDetector(detectorPoints(""));

  let exp05: CampaignEvaluation["exp05"];
  if (dataset === "all" || dataset === "dp3t-exp05") {
    progress("exp05 contact decisions", 0.8);
    const folder = folders[scored.findIndex((c) => c.name === "dp3t-exp05")];
    // Ours fitted on the other campaigns, then with the threshold the tram alone gives (66 dB,
    // the default until the campaigns said otherwise), then the presets.
    const ours = detectorPreset(detectorFits[0]);
    const tramFit = { ...ours, name: TRAM_FIT_DETECTOR, closeAttenuationDb: TRAM_FIT_DB };
    const presets = [ours, tramFit, ...allPresets().slice(1)];
    const contacts = (options.closeDistancesM ?? [2, 1.5]).map((closeDistanceM) =>
      evaluateExp05Contacts({
        dataDir: folder,
        presets,
        devices,
        offsetsDb: deviceOffsets,
        withOffsets: presets.map((p) => p.name),
        closeDistanceM,
        closeMinutes: options.closeMinutes,
        resamples: options.resamples,
      }),
    );
    progress("exp05 per sample", 0.9);
    const heldOutExp05 = estimators.campaigns.find((c) => c.campaign === "dp3t-exp05");
    const parameters = heldOutExp05?.estimators[0].parameters as never;
    const perSample = exp05PerSample(
      loadDp3tExp05(folder, { scenarios: ["lunch", "train", "office", "queue", "party"] }),
      {
        devices,
        estimatorName: shipped[0].name,
        createEstimator: (first) =>
          recordEstimator(shipped[0].name, devices, first, { proxkit: parameters }),
        resamples: options.resamples,
      },
    );
    exp05 = { contacts, perSample };
  }

  let dublinTram: CampaignEvaluation["dublinTram"];
  const tramFolder = join(options.dataRoot, DUBLIN_TRAM_FOLDER);
  if ((dataset === "all" && existsSync(tramFolder)) || dataset === "dublin-tram") {
    progress("Dublin tram", 0.95);
    const pairs = loadDublinTram(tramFolder);
    const evaluation = evaluateTramPairs(pairs);
    const preset = detectorPreset(detectorFits[1]);
    const decisions = decidePairs(preset, pairs);
    const figures = confusionFigures(pairs, decisions);
    dublinTram = {
      evaluation,
      detector: {
        closeAttenuationDb: preset.closeAttenuationDb ?? Number.NaN,
        notifications: figures.notifications,
        tpr: figures.tpr,
        fpr: figures.fpr,
        balancedAccuracy: figures.balancedAccuracy,
        balancedAccuracy95: balancedAccuracyInterval(pairs, decisions),
      },
    };
    summaries.push({
      name: "dublin-tram",
      source: "Leith and Farrell 2020, doug-leith/dublintram_gaen_dataset",
      description: "GAEN attenuation durations of handset pairs on a tram, seat distances",
      role: "detectors",
      records: pairs.length,
      streams: pairs.length,
      instants: 0,
      units: new Set(pairs.map((p) => p.handsets.join("-"))).size,
    });
  }

  const offsets = fittedOffsets as unknown as CampaignEvaluation["offsets"];
  let offsetsRefit: CampaignEvaluation["offsets"]["refit"];
  const anechoic = CAMPAIGNS.find((c) => c.role === "offsets");
  if (anechoic && (dataset === "all" || dataset === anechoic.name) && table) {
    progress("anechoic offsets", 0.97);
    const records = [...anechoic.load(campaignFolder(anechoic, options.dataRoot))];
    const lookup = table;
    const fit = fitDeviceOffsets(records, (model) => lookup.lookup(model));
    let maxChangeDb = 0;
    for (const [model, d] of Object.entries(fit.devices)) {
      const committed = offsets.devices[model];
      if (!committed) continue;
      maxChangeDb = Math.max(
        maxChangeDb,
        Math.abs(d.rxOffsetDb - committed.rxOffsetDb),
        Math.abs(d.txOffsetDb - committed.txOffsetDb),
      );
    }
    offsetsRefit = {
      spreadBeforeDb: fit.spreadBeforeDb,
      spreadAfterDb: fit.spreadAfterDb,
      maxChangeDb,
    };
    summaries.push({
      name: anechoic.name,
      source: anechoic.source,
      description: anechoic.description,
      role: anechoic.role,
      records: records.length,
      streams: new Set(records.map((r) => `${r.session} ${r.rxId} ${r.txId}`)).size,
      instants: 0,
      units: new Set(records.map((r) => r.unit)).size,
    });
  }
  progress("done", 1);
  return {
    dataset,
    dataRoot: options.dataRoot,
    calibration: table ? calibrationPath : "none (table-wide defaults)",
    campaigns: summaries,
    estimators,
    detectorFits,
    detectorFitAll,
    estimatorFitAll: fitAll?.parameters ?? {},
    exp05,
    dublinTram,
    offsets: {
      pairPlacements: offsets.pairPlacements,
      spreadBeforeDb: offsets.spreadBeforeDb,
      spreadAfterDb: offsets.spreadAfterDb,
      spreadLeaveOnePlacementOutDb: offsets.spreadLeaveOnePlacementOutDb,
      devices: offsets.devices,
      ...(offsetsRefit ? { refit: offsetsRefit } : {}),
    },
    rssiVsDistance: points,
    elapsedMs: Date.now() - started,
  };
}

export type { CampaignName };
