/**
 * The measured side of the report's "RSSI against distance" chart: readings of the campaigns a
 * channel profile was fitted on (the `CHANNEL_CAMPAIGNS` its parameters' sources name: the
 * Herald rig for `herald-only`, all five for `v2`), read from the data folder at run time.
 *
 * Each reading is put in the simulator's units as the fit and its validation compare them
 * (`channel-data.ts`, `channel-validation.ts`): the device terms of the campaign's phones under
 * the profile's `devices` scheme are taken off and the simulator's nominal phone pair's put on
 * (`nominalDeviceDb`), so the dots read as if the simulator's phones had been there. Carry
 * positions, bodies and each campaign's own level stay as measured.
 *
 * Reading the five campaigns takes about 5 s, so each campaign's sample is cached in
 * `cacheDir` (given by the CLI), keyed by the sizes and times of its files: later reports read
 * a few kB instead.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import type { CampaignName, CampaignRecord } from "../../src/campaigns/campaign-record.js";
import { CAMPAIGNS } from "../../src/campaigns/campaigns.js";
import { writeFileAtomic } from "../../src/io/atomic-write.js";
import { repoRoot } from "../../src/io/data-root.js";
import { CalibrationTable, loadCalibrationTable } from "../../src/signal/calibration-table.js";
import {
  CALIBRATION_TABLE_FILE,
  CHANNEL_CAMPAIGNS,
  deviceTerms,
  profileCampaigns,
} from "../world/channel-data.js";
import { nominalDeviceDb, usesCalibrationTable } from "../world/channel-propagation.js";
import type { ChannelProfile } from "../world/channel-v2.js";

export interface MeasuredRssi {
  distanceM: number;
  rssiDbm: number;
  campaign: string;
}

/** The measured side of one profile, with where it comes from, or why there is none. */
export type MeasuredRssiVsDistance =
  | { points: MeasuredRssi[]; campaigns: string[]; source: string }
  | { missing: string };

/** Measured dots in all, shared equally between the campaigns (as they weigh in the fit). */
export const MAX_MEASURED_POINTS = 4000;

/** Bumped when what a cached sample holds changes (a loader's output, the sampling). */
const CACHE_VERSION = 2;

/**
 * At most `max` items, evenly spaced through `items` (first item kept), so the same input
 * always gives the same sample and every part of the input keeps its share.
 */
export function downsampleEvenly<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  if (max <= 0) return [];
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(items[Math.floor((i * items.length) / max)]);
  return out;
}

/** One campaign's readings with a distance, sampled evenly in loader order. */
interface CampaignSample {
  /** Records read, records with a distance. */
  read: number;
  kept: number;
  models: string[];
  /** distanceM, rssiDbm, tx model index, rx model index; per reading. */
  flat: number[];
}

function filesUnder(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  )) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) filesUnder(path, out);
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** What the cached sample of a campaign folder depends on: its files' names, sizes and times. */
function cacheKey(campaign: string, folder: string, max: number): string {
  const hash = createHash("sha256").update(`${CACHE_VERSION}\n${campaign}\n${max}\n`);
  for (const path of filesUnder(folder)) {
    const s = statSync(path);
    hash.update(`${relative(folder, path)}\t${s.size}\t${s.mtimeMs}\n`);
  }
  return hash.digest("hex").slice(0, 24);
}

function readCampaign(name: CampaignName, folder: string, max: number): CampaignSample {
  const info = CAMPAIGNS.find((c) => c.name === name)!;
  const distances: number[] = [];
  const rssi: number[] = [];
  const tx: number[] = [];
  const rx: number[] = [];
  const models: string[] = [];
  const modelIndex = new Map<string, number>();
  const indexOf = (model: string) => {
    let i = modelIndex.get(model);
    if (i === undefined) {
      i = models.length;
      models.push(model);
      modelIndex.set(model, i);
    }
    return i;
  };
  let read = 0;
  for (const r of info.load(folder) as Iterable<CampaignRecord>) {
    read++;
    // The records the channel fit keeps (`loadChannelData`).
    if (r.distanceM === undefined || !(r.distanceM >= 0)) continue;
    distances.push(r.distanceM);
    rssi.push(r.rssiDbm);
    tx.push(indexOf(r.txModel));
    rx.push(indexOf(r.rxModel));
  }
  const kept = distances.length;
  const flat: number[] = [];
  for (const k of downsampleEvenly(
    Array.from({ length: kept }, (_, k) => k),
    max,
  ))
    flat.push(distances[k], rssi[k], tx[k], rx[k]);
  return { read, kept, models, flat };
}

/** A campaign's sample from the cache when its files are unchanged, else read (and cached). */
function campaignSample(
  name: CampaignName,
  folder: string,
  max: number,
  cacheDir: string | undefined,
): CampaignSample {
  if (cacheDir === undefined) return readCampaign(name, folder, max);
  const path = join(cacheDir, `measured-rssi-${name}-${cacheKey(name, folder, max)}.json`);
  try {
    if (existsSync(path)) return JSON.parse(readFileSync(path, "utf8")) as CampaignSample;
  } catch {
    // A damaged cache file is read again from the data.
  }
  const sample = readCampaign(name, folder, max);
  try {
    mkdirSync(cacheDir, { recursive: true });
    writeFileAtomic(path, JSON.stringify(sample));
  } catch {
    // A cache that cannot be written only costs time.
  }
  return sample;
}

/** 12345 → "12,345" (no locale: the same page everywhere). */
const formatCount = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

/**
 * The measured readings for `profile` from the campaigns it names, `maxPoints` in all (equal
 * shares per campaign, each sampled evenly in loader order, the same every time), in the
 * simulator's units; or why there are none (no campaign named, data folder absent).
 */
export function loadMeasuredRssiVsDistance(
  profile: ChannelProfile,
  options: { dataRoot: string; maxPoints?: number; cacheDir?: string },
): MeasuredRssiVsDistance {
  const { dataRoot, cacheDir } = options;
  const campaigns = profileCampaigns(profile);
  if (campaigns.length === 0)
    return {
      missing: `the channel profile "${profile.name}" names none of the measured campaigns (${CHANNEL_CAMPAIGNS.join(", ")}) in its sources, so there is nothing measured to compare with.`,
    };
  const folders = campaigns.map((name) => {
    const info = CAMPAIGNS.find((c) => c.name === name)!;
    return { name, folder: join(dataRoot, info.folder) };
  });
  const present = folders.filter((f) => existsSync(f.folder) && statSync(f.folder).isDirectory());
  const absent = folders.filter((f) => !present.includes(f)).map((f) => f.name);
  if (present.length === 0)
    return {
      missing: `the data folder ${shownPath(dataRoot)} does not hold ${campaigns.join(", ")}, the campaigns the channel profile "${profile.name}" was fitted on, so only the simulated side is shown.`,
    };
  const scheme = profile.devices.value;
  const needsTable = usesCalibrationTable(profile);
  const tablePath = join(dataRoot, CALIBRATION_TABLE_FILE);
  if (needsTable && !existsSync(tablePath))
    return {
      missing: `the calibration table ${shownPath(tablePath)} is absent, and the channel profile "${profile.name}" takes the phones' device terms from it, so the measured readings cannot be put in the simulator's units.`,
    };
  const calibration = needsTable ? loadCalibrationTable(tablePath) : new CalibrationTable([]);
  const nominalDb = nominalDeviceDb(profile);
  const share = Math.floor((options.maxPoints ?? MAX_MEASURED_POINTS) / present.length);
  const points: MeasuredRssi[] = [];
  const counts: string[] = [];
  let corrected = false;
  for (const { name, folder } of present) {
    const sample = campaignSample(name, folder, share, cacheDir);
    const terms = sample.models.map((m) => deviceTerms(scheme, calibration, m));
    const f = sample.flat;
    for (let i = 0; i < f.length; i += 4) {
      const shiftDb = nominalDb - terms[f[i + 2]].txDeviceDb - terms[f[i + 3]].rxDeviceDb;
      if (shiftDb !== 0) corrected = true;
      // 0.1 dB and 1 mm are finer than either side's readings.
      points.push({
        distanceM: Math.round(f[i] * 1000) / 1000,
        rssiDbm: Math.round((f[i + 1] + shiftDb) * 10) / 10,
        campaign: name,
      });
    }
    counts.push(`${name} (${formatCount(f.length / 4)} of ${formatCount(sample.kept)})`);
  }
  const units = corrected
    ? `Each measured reading is shown as the simulator's nominal phones would have reported it, as the fit compares them: the device terms of the campaign's phones (${scheme}) taken off and the nominal pair's (${nominalDb} dB) put on.`
    : "The measured readings are shown as the phones reported them (their device terms under the profile's scheme are 0).";
  return {
    points,
    campaigns: present.map((f) => f.name),
    source: `The measured readings come from the campaigns the channel profile "${profile.name}" was fitted on, read from ${shownPath(dataRoot)}: ${counts.join(", ")} readings with a known distance, an equal share per campaign, evenly sampled.${
      absent.length > 0 ? ` Not in the data folder, so not shown: ${absent.join(", ")}.` : ""
    } ${units} Carry positions, the bodies in between and each campaign's own level stay as measured, so the measured cloud is wider than any one place.`,
  };
}

/** A data folder as the page shows it: relative to the repository when inside or beside it, so the page does not depend on where the checkout sits. */
function shownPath(folder: string): string {
  const root = repoRoot();
  if (root === undefined) return folder;
  const rel = relative(root, resolve(folder));
  return rel.startsWith(`..${sep}..`) || isAbsolute(rel) ? folder : rel || ".";
}
