/**
 * One record type for every real measurement campaign (`../shared/data/*`): one received
 * advertisement with what is known of it. Loaders (one per campaign, `load-*.ts`) stream these
 * records, grouped by stream and in time order within a stream, so an evaluation can run a
 * causal estimator over each stream without holding a campaign in memory.
 */

/** The campaigns proxkit reads, by their `evaluate --dataset` name. */
export const CAMPAIGN_NAMES = [
  "herald-edison",
  "dp3t-exp05",
  "dp3t-anechoic",
  "body-position",
  "mit-matrix",
  "pi-multichannel",
] as const;
export type CampaignName = (typeof CAMPAIGN_NAMES)[number];

/** Where the measurement was made, as a propagation class. */
export type Environment =
  /** A large open indoor space (an atrium, a hall, a corridor). */
  | "open-indoor"
  /** An office or a room with furniture. */
  | "office"
  /** A bus, a train, a tram, a car. */
  | "vehicle"
  | "outdoor"
  /** An anechoic chamber: no multipath. */
  | "anechoic"
  /** A test rig (the Herald robot cable car) in a room. */
  | "rig";

/** Where a phone was carried. `unknown` when the campaign does not say. */
export type CarryPosition =
  | "hand"
  | "shirt-pocket"
  | "front-pocket"
  | "back-pocket"
  /** Pocket, side not recorded. */
  | "pocket"
  | "bag"
  | "table"
  /** Fixed to a rig or a stand, nobody carrying it. */
  | "mount"
  | "unknown";

export interface CampaignRecord {
  readonly campaign: CampaignName;
  /** Scenario or condition within the campaign ("lunch", "HandPocket", "bus"). */
  readonly scenario: string;
  /**
   * One recording session: a file, or one scenario part. The records of one
   * (session, rxId, txId) are a stream: contiguous in the loader's output and in time order.
   */
  readonly session: string;
  /**
   * The independent unit a bootstrap resamples: a placement or recording of one pair of
   * devices, or in a crowd one pair of people in one scenario (both directions share it).
   */
  readonly unit: string;
  /** Reception time, ms since the Unix epoch (or since the recording's start where the campaign gives no clock). */
  readonly atMs: number;
  readonly rxId: string;
  readonly txId: string;
  /** Device models as Google's calibration table names them where it does ("Samsung SM-G973F"), else as the campaign does ("Apple iPhone 11"); "" unknown. */
  readonly rxModel: string;
  readonly txModel: string;
  readonly rssiDbm: number;
  /** TX power the sender advertised or the campaign states, dBm. */
  readonly txPowerDbm?: number;
  /** True distance, m; `undefined` where unknown. */
  readonly distanceM?: number;
  readonly environment: Environment;
  readonly rxCarry: CarryPosition;
  readonly txCarry: CarryPosition;
  /** Advertising channel (37, 38, 39) where known. */
  readonly channel?: number;
}

/** The key of a record's stream. */
export function streamKey(record: CampaignRecord): string {
  return `${record.session}\u0000${record.rxId}\u0000${record.txId}`;
}
