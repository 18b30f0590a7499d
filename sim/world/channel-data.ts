/**
 * The campaigns in `../shared/data` as the channel fit and its validation read them: every
 * record with a true distance, grouped into cells (one stream at one distance: a placement,
 * or for the moving crowd of exp05 one pair within 0.1 m), with the device terms of each
 * `DeviceScheme` per device model. Read at run time, never copied.
 */
import { join } from "node:path";
import type {
  CampaignName,
  CampaignRecord,
  CarryPosition,
  Environment,
} from "../../src/campaigns/campaign-record.js";
import { CAMPAIGNS, campaignFolder } from "../../src/campaigns/campaigns.js";
import { type CalibrationTable, loadCalibrationTable } from "../../src/signal/calibration-table.js";
import { deviceOffsets } from "../../src/signal/device-offsets.js";
import fittedOffsets from "../../src/signal/device-offsets.json" with { type: "json" };
import type { ChannelLink, ChannelProfile, DeviceScheme } from "./channel-v2.js";
import { simulatedDevice } from "./devices.js";

/** The campaigns with distances that vary: fitted on and held out in turn. */
export const CHANNEL_CAMPAIGNS: readonly CampaignName[] = [
  "herald-edison",
  "dp3t-exp05",
  "body-position",
  "mit-matrix",
  "pi-multichannel",
];

/** Every source text of a profile (its parameters' `source` fields and its description). */
function sourceTexts(profile: ChannelProfile): string[] {
  const texts = typeof profile.description === "string" ? [profile.description] : [];
  for (const field of Object.values(profile))
    if (typeof field === "object" && field !== null && typeof field.source === "string")
      texts.push(field.source);
  return texts;
}

/**
 * The campaigns with distances (`CHANNEL_CAMPAIGNS`, in that order) that the profile's sources
 * or description name: what it was fitted on, as far as it says.
 */
export function profileCampaigns(profile: ChannelProfile): CampaignName[] {
  const text = sourceTexts(profile).join("\n");
  return CHANNEL_CAMPAIGNS.filter((name) => new RegExp(`(^|[^\\w-])${name}($|[^\\w-])`).test(text));
}

/** Cells group a stream's records whose distances round to the same multiple of this, m. */
export const CELL_DISTANCE_STEP_M = 0.1;

export const CALIBRATION_TABLE_FILE = "gaen/en-calibration-2020-06-13.csv";

/** One stream at one distance. */
export interface ChannelCell {
  readonly campaign: CampaignName;
  readonly unit: string;
  readonly stream: string;
  readonly environment: Environment;
  readonly rxCarry: CarryPosition;
  readonly txCarry: CarryPosition;
  readonly rxModel: string;
  readonly txModel: string;
  /** Mean true distance of the cell's records, m. */
  distanceM: number;
  count: number;
  /** Mean and (population) variance of the cell's RSSI, dBm / dB². */
  meanDbm: number;
  varianceDb2: number;
}

/** One record, slim: its cell, RSSI and time. */
export interface ChannelSample {
  readonly cell: number;
  readonly rssiDbm: number;
  readonly atS: number;
}

export interface ChannelData {
  readonly cells: ChannelCell[];
  /** Samples of each campaign, in loader order (streams contiguous, time order within). */
  readonly samples: ReadonlyMap<CampaignName, ChannelSample[]>;
  /** Records per campaign read and kept (with a distance). */
  readonly counts: ReadonlyMap<CampaignName, { read: number; kept: number }>;
  readonly calibration: CalibrationTable;
}

/** Reads the campaigns (all of `CHANNEL_CAMPAIGNS` by default) from `dataRoot`. */
export function loadChannelData(
  dataRoot: string,
  campaigns: readonly CampaignName[] = CHANNEL_CAMPAIGNS,
): ChannelData {
  const cells: ChannelCell[] = [];
  const samples = new Map<CampaignName, ChannelSample[]>();
  const counts = new Map<CampaignName, { read: number; kept: number }>();
  for (const name of campaigns) {
    const info = CAMPAIGNS.find((c) => c.name === name);
    if (!info) throw new Error(`unknown campaign ${name}`);
    const list: ChannelSample[] = [];
    const index = new Map<string, number>();
    const sums = new Map<number, { s: number; s2: number; d: number }>();
    let read = 0;
    for (const r of info.load(campaignFolder(info, dataRoot)) as Iterable<CampaignRecord>) {
      read++;
      if (r.distanceM === undefined || !(r.distanceM >= 0)) continue;
      const step = Math.round(r.distanceM / CELL_DISTANCE_STEP_M);
      const stream = `${r.session}\u0000${r.rxId}\u0000${r.txId}`;
      const key = `${stream}\u0000${step}\u0000${r.rxCarry}\u0000${r.txCarry}\u0000${r.environment}`;
      let cell = index.get(key);
      if (cell === undefined) {
        cell = cells.length;
        index.set(key, cell);
        cells.push({
          campaign: name,
          unit: `${name}\u0000${r.unit}`,
          stream,
          environment: r.environment,
          rxCarry: r.rxCarry,
          txCarry: r.txCarry,
          rxModel: r.rxModel,
          txModel: r.txModel,
          distanceM: 0,
          count: 0,
          meanDbm: 0,
          varianceDb2: 0,
        });
        sums.set(cell, { s: 0, s2: 0, d: 0 });
      }
      const sum = sums.get(cell)!;
      sum.s += r.rssiDbm;
      sum.s2 += r.rssiDbm * r.rssiDbm;
      sum.d += r.distanceM;
      cells[cell].count++;
      list.push({ cell, rssiDbm: r.rssiDbm, atS: r.atMs / 1000 });
    }
    for (const [cell, sum] of sums) {
      const c = cells[cell];
      c.meanDbm = sum.s / c.count;
      c.varianceDb2 = Math.max(0, sum.s2 / c.count - c.meanDbm * c.meanDbm);
      c.distanceM = sum.d / c.count;
    }
    samples.set(name, list);
    counts.set(name, { read, kept: list.length });
  }
  const calibration = loadCalibrationTable(join(dataRoot, CALIBRATION_TABLE_FILE));
  return { cells, samples, counts, calibration };
}

/** Mean anechoic offsets by maker (the first word of the model name: "Apple", "Samsung"). */
const MAKER_OFFSETS = (() => {
  const sums = new Map<string, { rx: number; tx: number; n: number }>();
  for (const [name, d] of Object.entries(
    fittedOffsets.devices as Record<string, { rxOffsetDb: number; txOffsetDb: number }>,
  )) {
    const maker = name.split(" ")[0].toLowerCase();
    const s = sums.get(maker) ?? { rx: 0, tx: 0, n: 0 };
    s.rx += d.rxOffsetDb;
    s.tx += d.txOffsetDb;
    s.n++;
    sums.set(maker, s);
  }
  return new Map(
    [...sums].map(([maker, s]) => [maker, { rxOffsetDb: s.rx / s.n, txOffsetDb: s.tx / s.n }]),
  );
})();

/**
 * The anechoic offsets of a model: its own, else the mean of its maker's fitted models (an
 * iPhone 6s gets the mean iPhone), else none.
 */
export function anechoicOffsets(model: string): { rxOffsetDb: number; txOffsetDb: number } {
  if (model === "") return { rxOffsetDb: 0, txOffsetDb: 0 };
  return (
    deviceOffsets(model) ??
    MAKER_OFFSETS.get(model.split(" ")[0].toLowerCase()) ?? { rxOffsetDb: 0, txOffsetDb: 0 }
  );
}

/** The device terms (dB) of a model as sender and as receiver under `scheme`. */
export function deviceTerms(
  scheme: DeviceScheme,
  calibration: CalibrationTable,
  model: string,
): { txDeviceDb: number; rxDeviceDb: number } {
  switch (scheme) {
    case "none":
      return { txDeviceDb: 0, rxDeviceDb: 0 };
    case "anechoic-relative": {
      const d = model === "" ? undefined : simulatedDevice(model)?.device;
      return { txDeviceDb: d?.txGainDb ?? 0, rxDeviceDb: d?.rxOffsetDb ?? 0 };
    }
    case "calibration-table": {
      const c = calibration.lookup(model);
      return { txDeviceDb: c.txPowerDbm, rxDeviceDb: -c.rssiCorrectionDb };
    }
    case "calibration-table+anechoic": {
      const c = calibration.lookup(model);
      const o = anechoicOffsets(model);
      return {
        txDeviceDb: c.txPowerDbm + o.txOffsetDb,
        rxDeviceDb: -c.rssiCorrectionDb + o.rxOffsetDb,
      };
    }
  }
}

/** The device terms of a cell's link under `scheme`, dB. */
export function cellDeviceDb(
  scheme: DeviceScheme,
  calibration: CalibrationTable,
  cell: ChannelCell,
): { txDeviceDb: number; rxDeviceDb: number } {
  return {
    txDeviceDb: deviceTerms(scheme, calibration, cell.txModel).txDeviceDb,
    rxDeviceDb: deviceTerms(scheme, calibration, cell.rxModel).rxDeviceDb,
  };
}

/**
 * A link for `profile` from device model names (as the calibration table or the campaigns
 * spell them; "" unknown): the device terms of the profile's scheme filled in.
 */
export function channelLink(
  profile: ChannelProfile,
  calibration: CalibrationTable,
  link: Omit<ChannelLink, "txDeviceDb" | "rxDeviceDb"> & {
    readonly txModel: string;
    readonly rxModel: string;
  },
): ChannelLink {
  const { txModel, rxModel, ...rest } = link;
  return {
    ...rest,
    txDeviceDb: deviceTerms(profile.devices.value, calibration, txModel).txDeviceDb,
    rxDeviceDb: deviceTerms(profile.devices.value, calibration, rxModel).rxDeviceDb,
  };
}
