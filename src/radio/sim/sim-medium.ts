/**
 * The shared air of simulated radios: where each node is, how strongly one hears another,
 * and a virtual-time scheduler. The crowd simulator (`sim/`) plugs in its own propagation
 * model through `rssiDbm`; the default is a plain log-distance model.
 */
import { SeededRandom } from "../../core/random.js";
import { VirtualScheduler } from "./virtual-scheduler.js";

/** Signal from node `from` to node `to` on `channel` at `atMs`, dBm; `undefined` = not received. */
export type RssiModel = (
  from: number,
  to: number,
  txPowerDbm: number,
  channel: number,
  atMs: number,
) => number | undefined;

export interface SimMediumOptions {
  startMs?: number;
  seed?: number;
  rssiDbm?: RssiModel;
}

/** A node's receive hook, called for each advertising PDU on the air while it scans. */
export type Listener = (pdu: {
  from: number;
  atMs: number;
  channel: number;
  payload: Uint8Array;
  address: Uint8Array;
  rssiDbm: number;
}) => void;

/** Receiver sensitivity of typical phones, dBm (Bluetooth Core spec minimum is -70; phones do ~-100). */
export const DEFAULT_SENSITIVITY_DBM = -100;

export class SimMedium {
  readonly scheduler: VirtualScheduler;
  readonly random: SeededRandom;
  private readonly positions: { x: number; y: number }[] = [];
  private readonly listeners = new Map<number, Listener>();
  private readonly rssiModel: RssiModel;

  constructor(options: SimMediumOptions = {}) {
    this.scheduler = new VirtualScheduler(options.startMs ?? 0);
    this.random = new SeededRandom(options.seed ?? 1);
    this.rssiModel = options.rssiDbm ?? this.logDistance;
  }

  /** Adds a node at (x, y) metres; returns its id. */
  addNode(x: number, y: number): number {
    return this.positions.push({ x, y }) - 1;
  }

  moveNode(node: number, x: number, y: number): void {
    this.positions[node] = { x, y };
  }

  distanceM(a: number, b: number): number {
    const p = this.positions[a];
    const q = this.positions[b];
    return Math.hypot(p.x - q.x, p.y - q.y);
  }

  listen(node: number, listener: Listener | undefined): void {
    if (listener) this.listeners.set(node, listener);
    else this.listeners.delete(node);
  }

  /** Puts one advertising PDU on the air: every listening node that hears it gets it. */
  transmit(
    from: number,
    atMs: number,
    channel: number,
    txPowerDbm: number,
    payload: Uint8Array,
    address: Uint8Array,
  ): void {
    for (const [to, listener] of this.listeners) {
      if (to === from) continue;
      const rssiDbm = this.rssiModel(from, to, txPowerDbm, channel, atMs);
      if (rssiDbm !== undefined) listener({ from, atMs, channel, payload, address, rssiDbm });
    }
  }

  /**
   * Default model: log-distance path loss (40 dB at 1 m, exponent 2) with 4 dB Gaussian
   * fading, quantised to whole dBm, cut at the sensitivity.
   */
  private readonly logDistance: RssiModel = (from, to, txPowerDbm) => {
    const d = Math.max(0.1, this.distanceM(from, to));
    const gaussian =
      Math.sqrt(-2 * Math.log(1 - this.random.float())) *
      Math.cos(2 * Math.PI * this.random.float());
    const rssi = Math.round(txPowerDbm - 40 - 20 * Math.log10(d) + 4 * gaussian);
    return rssi < DEFAULT_SENSITIVITY_DBM ? undefined : rssi;
  };
}
