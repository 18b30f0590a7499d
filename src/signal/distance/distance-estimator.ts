/**
 * A distance estimator turns a stream of RSSI samples into a causal distance estimate: an
 * input mapping (e.g. RSSI to calibrated attenuation), a chain of filters, and a model from
 * the filtered value to metres (docs/design.md, Conventions).
 */
import { FilterChain, type SignalFilter } from "../filters/signal-filter.js";

export interface DistanceEstimator {
  readonly name: string;
  /** A received advertisement: time (ms since the epoch) and RSSI (dBm). */
  push(atMs: number, rssiDbm: number): void;
  /** The current estimate in metres, from the samples pushed so far; `undefined` before there is one. */
  distanceM(): number | undefined;
  reset(): void;
}

/** Maps a filtered value (RSSI, attenuation, or a distance already) to metres. */
export interface DistanceModel {
  distanceM(value: number): number | undefined;
}

export interface ChainedEstimatorOptions {
  /** The chain's input for one RSSI sample; `undefined` drops the sample. Default: the RSSI. */
  readonly input?: (rssiDbm: number) => number | undefined;
  readonly filters: readonly SignalFilter[];
  readonly model: DistanceModel;
  /** No estimate until the first accepted sample is at least this old. Default 0. */
  readonly warmUpMs?: number;
}

/** An estimator made of an input mapping, a filter chain and a model. */
export class ChainedEstimator implements DistanceEstimator {
  readonly name: string;
  readonly model: DistanceModel;
  private readonly input: (rssiDbm: number) => number | undefined;
  private readonly chain: FilterChain;
  private readonly warmUpMs: number;
  private firstMs: number | undefined;
  private lastMs = 0;

  constructor(name: string, options: ChainedEstimatorOptions) {
    this.name = name;
    this.model = options.model;
    this.input = options.input ?? ((rssiDbm) => rssiDbm);
    this.chain = new FilterChain(options.filters);
    this.warmUpMs = options.warmUpMs ?? 0;
  }

  push(atMs: number, rssiDbm: number): void {
    const value = this.input(rssiDbm);
    if (value === undefined || !Number.isFinite(value)) return;
    this.firstMs ??= atMs;
    this.lastMs = atMs;
    this.chain.push({ atMs, value });
  }

  /** The chain's output before the model (the value the model was fitted on). */
  feature(): number | undefined {
    if (this.firstMs === undefined || this.lastMs - this.firstMs < this.warmUpMs) return undefined;
    return this.chain.value();
  }

  distanceM(): number | undefined {
    const value = this.feature();
    return value === undefined ? undefined : this.model.distanceM(value);
  }

  reset(): void {
    this.chain.reset();
    this.firstMs = undefined;
    this.lastMs = 0;
  }
}
