/**
 * The real side of the report's "RSSI against distance" chart: readings of the Herald "edison"
 * robot rig (two phones on a rail, 0-3 m, each logging the other's RSSI with the true
 * distance), the recordings that the propagation defaults were fitted to.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readHeraldEdison } from "../world/fit-propagation.js";

export interface RssiAtDistance {
  distanceM: number;
  rssiDbm: number;
}

/** The rig's usual place, relative to the repository (the working folder of `npm start`). */
export const HERALD_EDISON_DIR = "../shared/data/herald-edison";

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

/**
 * The rig's readings as (true distance, RSSI), down-sampled evenly to `maxPoints` (files in
 * name order, readings in time order), or `undefined` when the data folder is absent.
 */
export function loadRealRssiVsDistance(
  dataDir: string = HERALD_EDISON_DIR,
  maxPoints = 3000,
): RssiAtDistance[] | undefined {
  if (!existsSync(join(dataDir, "metadata.csv"))) return undefined;
  const files = readHeraldEdison(dataDir);
  let total = 0;
  for (const file of files) for (const p of file.placements) total += p.rssiDbm.length;
  if (total === 0) return [];
  // Pick indices first so that only the sampled readings become objects.
  const wanted = Math.min(total, Math.max(0, Math.floor(maxPoints)));
  const points: RssiAtDistance[] = [];
  let index = 0;
  let next = 0;
  for (const file of files) {
    for (const placement of file.placements) {
      const distanceM = placement.distanceCm / 100;
      for (const rssiDbm of placement.rssiDbm) {
        if (points.length < wanted && index === Math.floor((next * total) / wanted)) {
          points.push({ distanceM, rssiDbm });
          next++;
        }
        index++;
      }
    }
  }
  return points;
}
