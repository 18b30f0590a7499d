/**
 * Matching for the protocols whose published keys are day-key chains: Bluezone (a daily key
 * and a time span; each slot's ID is looked up inside that slot's time span) and DP-3T (a
 * day key; the day's EphIDs are broadcast in a shuffled order, so each is looked up inside
 * the whole UTC day). docs/protocols.md, DP-3T and Bluezone.
 */
import { ConfigError } from "../core/errors.js";
import { IdTable } from "../core/id-table.js";
import { type DayKey, MS_PER_DAY } from "../protocols/rolling-id-scheme.js";
import { schemeFor } from "../protocols/schemes.js";
import type { Sighting } from "../signal/sighting.js";

/** A published day key: the key of `day`; `days` consecutive days are derived down the chain. */
export interface PublishedDayKey {
  readonly protocol: "bluezone" | "dp3t";
  readonly key: DayKey;
  /** Days covered from `key.day` (default 1). */
  readonly days?: number;
  /** Bluezone's time_start / time_end: only sightings in [startMs, endMs) count. */
  readonly startMs?: number;
  readonly endMs?: number;
}

export interface DayKeyMatch {
  readonly keyIndex: number;
  /** Index of the sighting in the list given. */
  readonly sighting: number;
  /** UTC day and slot of the matched ID. */
  readonly day: number;
  readonly slot: number;
}

/**
 * Matches published day keys against sightings. `toleranceMs` widens each lookup span on both
 * sides for clock differences between phones (default 0: the span exactly).
 */
export function matchDayKeys(
  published: readonly PublishedDayKey[],
  sightings: readonly Sighting[],
  options: { toleranceMs?: number } = {},
): DayKeyMatch[] {
  const toleranceMs = options.toleranceMs ?? 0;
  const matches: DayKeyMatch[] = [];
  for (const protocol of ["bluezone", "dp3t"] as const) {
    const keys = published.map((p, i) => [p, i] as const).filter(([p]) => p.protocol === protocol);
    if (keys.length === 0) continue;
    const scheme = schemeFor(protocol);
    // Index this protocol's sightings by ID, with a linked list per ID.
    const table = new IdTable(scheme.idBytes, 1024);
    const first: number[] = [];
    const next = new Int32Array(sightings.length).fill(-1);
    sightings.forEach((s, i) => {
      if (s.protocol !== protocol) return;
      const handle = table.intern(s.id);
      next[i] = first[handle] ?? -1;
      first[handle] = i;
    });
    for (const [p, keyIndex] of keys) {
      const days = p.days ?? 1;
      if (!Number.isInteger(days) || days < 1 || days > 366)
        throw new ConfigError(`published key ${keyIndex}: days must be 1..366`);
      let dayKey = p.key;
      for (let d = 0; d < days; d++) {
        if (d > 0) dayKey = scheme.nextDayKey(dayKey, NO_RANDOM);
        const dayStartMs = dayKey.day * MS_PER_DAY;
        for (const id of scheme.idsForDay(dayKey)) {
          const handle = table.find(id.id);
          if (handle < 0) continue;
          const fromMs = (scheme.shuffledBroadcast ? dayStartMs : id.startMs) - toleranceMs;
          const toMs =
            (scheme.shuffledBroadcast ? dayStartMs + MS_PER_DAY : id.startMs + scheme.slotMs) +
            toleranceMs;
          for (let s = first[handle]; s >= 0; s = next[s]) {
            const atMs = sightings[s].atMs;
            if (atMs < fromMs || atMs >= toMs) continue;
            if (p.startMs !== undefined && atMs < p.startMs) continue;
            if (p.endMs !== undefined && atMs >= p.endMs) continue;
            matches.push({ keyIndex, sighting: s, day: dayKey.day, slot: id.slot });
          }
        }
      }
    }
  }
  return matches;
}

/** Chained schemes never draw randomness when stepping the chain. */
const NO_RANDOM = {
  bytes: () => {
    throw new Error("unreachable: chained keys need no randomness");
  },
  float: () => 0,
  int: () => 0,
};
