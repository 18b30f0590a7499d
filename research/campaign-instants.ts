/**
 * From a campaign's record stream to scored instants: every distance estimator is run causally
 * over each (session, receiver, transmitter) stream and read at the same instants, on a fixed
 * grid (`EstimateTicker`, every `intervalMs`), using only the samples up to each instant. An
 * instant counts when the truth is known there (the distance of the last sample at or before
 * it) and every estimator has a value. Fitted estimators give their filtered feature (fitted
 * later, leave one campaign out); fixed ones their distance.
 */
import type { ChainedEstimator } from "../src/signal/distance/distance-estimator.js";
import { EstimateTicker } from "../src/signal/distance/estimate-ticker.js";
import type { CampaignName, CampaignRecord } from "../src/campaigns/campaign-record.js";
import { streamKey } from "../src/campaigns/campaign-record.js";

/** How an estimator under evaluation is built for one stream and what it is read for. */
export interface InstantEstimator {
  readonly name: string;
  /** A fresh causal estimator for a stream between these devices. */
  create(first: CampaignRecord): ChainedEstimator;
  /** True: read `feature()` (the model is fitted afterwards); false: read `distanceM()`. */
  readonly fitted: boolean;
}

/** Instants of one campaign, column-wise. */
export interface CampaignInstants {
  readonly campaign: CampaignName;
  readonly count: number;
  readonly truthM: Float64Array;
  /** Unit index of each instant (into `units`): the bootstrap resamples these. */
  readonly unitOf: Int32Array;
  readonly units: readonly string[];
  /** Per estimator (same order as given): its feature or distance at each instant. */
  readonly values: readonly Float64Array[];
  /** Time since the stream's first sample at each instant, ms. */
  readonly streamAgeMs: Float64Array;
  /** Scenario index of each instant (into `scenarios`). */
  readonly scenarioOf: Int32Array;
  readonly scenarios: readonly string[];
  /** Carry pair index of each instant (into `carries`, "rx/tx"). */
  readonly carryOf: Int32Array;
  readonly carries: readonly string[];
  readonly records: number;
  readonly streams: number;
}

/** Instants every 10 s: short placements (two minutes per range in the MIT matrix) still get several. */
export const CAMPAIGN_INSTANT_INTERVAL_MS = 10_000;

class GrowingColumn {
  data: Float64Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Float64Array(capacity);
  }
  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }
  done(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

/** Interns strings as small integers. */
class Interner {
  readonly names: string[] = [];
  private readonly index = new Map<string, number>();
  of(name: string): number {
    let i = this.index.get(name);
    if (i === undefined) {
      i = this.names.push(name) - 1;
      this.index.set(name, i);
    }
    return i;
  }
}

export interface CollectInstantsOptions {
  readonly intervalMs?: number;
  /** Called after each stream with the records read so far (progress). */
  readonly onStream?: (records: number) => void;
}

/** Runs `estimators` over the streams of `records` (see the file comment). */
export function collectInstants(
  campaign: CampaignName,
  records: Iterable<CampaignRecord>,
  estimators: readonly InstantEstimator[],
  options: CollectInstantsOptions = {},
): CampaignInstants {
  const truth = new GrowingColumn();
  const unit = new GrowingColumn();
  const age = new GrowingColumn();
  const scenario = new GrowingColumn();
  const carry = new GrowingColumn();
  const values = estimators.map(() => new GrowingColumn());
  const units = new Interner();
  const scenarios = new Interner();
  const carries = new Interner();
  let recordCount = 0;
  let streamCount = 0;

  let key: string | undefined;
  let running: ChainedEstimator[] = [];
  let ticker = new EstimateTicker(options.intervalMs ?? CAMPAIGN_INSTANT_INTERVAL_MS);
  let truthM: number | undefined;
  let firstMs = 0;
  let current: CampaignRecord | undefined;
  const seen = new Set<string>();

  const visit = (tickMs: number | undefined) => {
    if (tickMs === undefined || truthM === undefined || current === undefined) return;
    const read = running.map((e, i) => (estimators[i].fitted ? e.feature() : e.distanceM()));
    if (read.some((v) => v === undefined || !Number.isFinite(v))) return;
    truth.push(truthM);
    unit.push(units.of(current.unit));
    age.push(tickMs - firstMs);
    scenario.push(scenarios.of(current.scenario));
    carry.push(carries.of(`${current.rxCarry}/${current.txCarry}`));
    read.forEach((v, i) => {
      values[i].push(v as number);
    });
  };

  for (const record of records) {
    recordCount++;
    const k = streamKey(record);
    if (k !== key) {
      visit(ticker.finish());
      if (seen.has(k))
        throw new Error(
          `${campaign}: stream ${k.replaceAll("\u0000", " ")} is not contiguous in the loader's output`,
        );
      seen.add(k);
      options.onStream?.(recordCount);
      key = k;
      streamCount++;
      running = estimators.map((e) => e.create(record));
      ticker = new EstimateTicker(options.intervalMs ?? CAMPAIGN_INSTANT_INTERVAL_MS);
      truthM = undefined;
      firstMs = record.atMs;
    }
    visit(ticker.beforeSample(record.atMs));
    current = record;
    truthM = record.distanceM;
    for (const e of running) e.push(record.atMs, record.rssiDbm);
  }
  visit(ticker.finish());

  const count = truth.length;
  return {
    campaign,
    count,
    truthM: truth.done(),
    unitOf: Int32Array.from(unit.done()),
    units: units.names,
    values: values.map((v) => v.done()),
    streamAgeMs: age.done(),
    scenarioOf: Int32Array.from(scenario.done()),
    scenarios: scenarios.names,
    carryOf: Int32Array.from(carry.done()),
    carries: carries.names,
    records: recordCount,
    streams: streamCount,
  };
}
