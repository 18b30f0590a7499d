/**
 * The adoption report: how many distinct devices running a contact-tracing app passed the
 * checkpoint, per protocol and per hour or day, how long they stayed, and, given a footfall
 * count, the estimated share of visitors carrying an app.
 *
 * A phone changes its rolling ID every 10-20 minutes, so counting IDs would count a visitor
 * who stayed an hour four times. IDs are linked into one device only by presence: the next ID
 * must appear within `linkGapMs` of the previous one's last sighting (or overlap it by at most
 * `maxOverlapMs`), with the same protocol and a signal level within `maxAttenuationStepDb`; among candidates the closest in time and signal
 * level wins, and each ID links to at most one successor and one predecessor. Nothing else is
 * used (no keys, no addresses, no payload fingerprints). A departure followed at once by an
 * arrival can be linked by mistake (an undercount); a swap between two rotating phones does
 * not change the count.
 */
import { ConfigError } from "../core/errors.js";
import { toHex } from "../core/hex.js";
import { mention, optionText } from "../core/option-text.js";
import { PROTOCOLS, type Protocol } from "../protocols/rolling-id-scheme.js";
import type { StoredWindow } from "./checkpoint-store.js";

export const DEFAULT_LINK_GAP_MS = 5_000;
export const DEFAULT_MAX_OVERLAP_MS = 2_000;
/** A phone that just changed ID is where it was: its signal level cannot have stepped much. */
export const DEFAULT_MAX_ATTENUATION_STEP_DB = 12;
/**
 * Most per-hour or per-day periods a report lists: over a year of hours, 27 years of days. More
 * means a corrupt time range (a capture stamped decades off), and rows nobody would read.
 */
export const MAX_REPORT_PERIODS = 10_000;
/** Dwell histogram edges, s. */
export const DWELL_BUCKETS_S = [60, 300, 900, 1800, 3600] as const;

/** One device as the report sees it: a chain of rolling IDs. */
export interface DeviceTrack {
  readonly protocol: Protocol;
  readonly startMs: number;
  readonly endMs: number;
  readonly ids: number;
}

export interface AdoptionReportOptions {
  fromMs?: number;
  toMs?: number;
  /** Visitors counted over the period (a door counter), for the share with an app. */
  footfall?: number;
  per?: "hour" | "day";
  linkGapMs?: number;
  maxOverlapMs?: number;
  maxAttenuationStepDb?: number;
}

export interface DwellSummary {
  readonly meanS: number;
  readonly p10S: number;
  readonly p50S: number;
  readonly p90S: number;
  /** Counts of dwell below each edge of `DWELL_BUCKETS_S`, then at or above the last. */
  readonly histogram: readonly number[];
}

export interface AdoptionRow {
  /** "all" or a protocol. */
  readonly protocol: Protocol | "all";
  readonly devices: number;
  readonly rollingIds: number;
  readonly windows: number;
  readonly dwell: DwellSummary;
  /** devices / footfall, when a footfall was given. */
  readonly share?: number;
}

export interface AdoptionBucketRow {
  readonly startMs: number;
  readonly protocol: Protocol | "all";
  /** Devices present at some time in the bucket. */
  readonly devices: number;
  /** Devices whose first sighting is in the bucket. */
  readonly arrivals: number;
  readonly dwellP50S: number;
  readonly dwellP90S: number;
}

export interface AdoptionReport {
  readonly fromMs: number;
  readonly toMs: number;
  readonly per: "hour" | "day";
  readonly footfall?: number;
  readonly totals: readonly AdoptionRow[];
  readonly buckets: readonly AdoptionBucketRow[];
  /** Windows stored while the checkpoint's clock was not trustworthy (their times may be off). */
  readonly untrustedWindows: number;
}

interface Segment {
  protocol: Protocol;
  firstMs: number;
  lastMs: number;
  firstDb: number;
  lastDb: number;
  next: number;
  previous: number;
}

/** Merges each rolling ID's windows into one segment, then links segments into device tracks. */
export function linkDeviceTracks(
  windows: readonly StoredWindow[],
  options: { linkGapMs?: number; maxOverlapMs?: number; maxAttenuationStepDb?: number } = {},
): DeviceTrack[] {
  const gapMs = options.linkGapMs ?? DEFAULT_LINK_GAP_MS;
  const maxStepDb = options.maxAttenuationStepDb ?? DEFAULT_MAX_ATTENUATION_STEP_DB;
  const overlapMs = options.maxOverlapMs ?? DEFAULT_MAX_OVERLAP_MS;
  const byId = new Map<string, Segment>();
  for (const w of windows) {
    const key = `${w.protocol}:${toHex(w.rollingId)}`;
    const scans = w.scanInstances;
    const firstDb = scans.length > 0 ? scans[0].typicalAttenuationDb : w.minAttenuationDb;
    const lastDb = scans.length > 0 ? scans[scans.length - 1].typicalAttenuationDb : firstDb;
    const s = byId.get(key);
    if (!s) {
      byId.set(key, {
        protocol: w.protocol,
        firstMs: w.startMs,
        lastMs: w.endMs,
        firstDb,
        lastDb,
        next: -1,
        previous: -1,
      });
      continue;
    }
    if (w.startMs < s.firstMs) {
      s.firstMs = w.startMs;
      s.firstDb = firstDb;
    }
    if (w.endMs > s.lastMs) {
      s.lastMs = w.endMs;
      s.lastDb = lastDb;
    }
  }
  const tracks: DeviceTrack[] = [];
  for (const protocol of PROTOCOLS) {
    const segments = [...byId.values()].filter((s) => s.protocol === protocol);
    if (segments.length === 0) continue;
    const byStart = segments
      .map((_, i) => i)
      .sort((a, b) => segments[a].firstMs - segments[b].firstMs);
    const starts = byStart.map((i) => segments[i].firstMs);
    // Candidate links: b starts within [a.last - overlap, a.last + gap].
    const candidates: { a: number; b: number; cost: number }[] = [];
    for (let a = 0; a < segments.length; a++) {
      const sa = segments[a];
      let k = lowerBound(starts, sa.lastMs - overlapMs);
      for (; k < starts.length && starts[k] <= sa.lastMs + gapMs; k++) {
        const b = byStart[k];
        if (b === a || segments[b].firstMs <= sa.firstMs) continue;
        const stepDb = Math.abs(segments[b].firstDb - sa.lastDb);
        if (stepDb > maxStepDb) continue;
        const cost = Math.abs(segments[b].firstMs - sa.lastMs) / 1000 + stepDb / 10;
        candidates.push({ a, b, cost });
      }
    }
    candidates.sort((x, y) => x.cost - y.cost);
    for (const { a, b } of candidates) {
      if (segments[a].next >= 0 || segments[b].previous >= 0) continue;
      segments[a].next = b;
      segments[b].previous = a;
    }
    for (let i = 0; i < segments.length; i++) {
      if (segments[i].previous >= 0) continue;
      let startMs = segments[i].firstMs;
      let endMs = segments[i].lastMs;
      let ids = 1;
      for (let j = segments[i].next; j >= 0; j = segments[j].next) {
        startMs = Math.min(startMs, segments[j].firstMs);
        endMs = Math.max(endMs, segments[j].lastMs);
        ids++;
      }
      tracks.push({ protocol, startMs, endMs, ids });
    }
  }
  return tracks.sort((x, y) => x.startMs - y.startMs);
}

/** Builds the report from the windows of the period. */
export function adoptionReport(
  windows: readonly StoredWindow[],
  options: AdoptionReportOptions = {},
): AdoptionReport {
  const per = options.per ?? "hour";
  const sizeMs = per === "hour" ? 3_600_000 : 86_400_000;
  const inPeriod = windows.filter(
    (w) =>
      (options.fromMs === undefined || w.endMs >= options.fromMs) &&
      (options.toMs === undefined || w.startMs < options.toMs),
  );
  const tracks = linkDeviceTracks(inPeriod, options);
  // Loops, not Math.min(...spread): a spread of a few hundred thousand tracks overflows the stack.
  let earliestMs = Number.POSITIVE_INFINITY;
  let latestMs = Number.NEGATIVE_INFINITY;
  for (const t of tracks) {
    if (t.startMs < earliestMs) earliestMs = t.startMs;
    if (t.endMs > latestMs) latestMs = t.endMs;
  }
  const fromMs = options.fromMs ?? (tracks.length > 0 ? earliestMs : 0);
  const toMs = options.toMs ?? (tracks.length > 0 ? latestMs + 1 : fromMs);
  const periods = Math.ceil((toMs - Math.floor(fromMs / sizeMs) * sizeMs) / sizeMs);
  if (!(periods <= MAX_REPORT_PERIODS))
    throw new ConfigError(
      optionText`the report would have ${periods} ${per === "hour" ? "hourly" : "daily"} periods (${isoOrRaw(fromMs)} .. ${isoOrRaw(toMs)}), more than the ${MAX_REPORT_PERIODS} it lists; give a narrower ${mention(["fromMs", "toMs"], { text: "period (fromMs, toMs)" })}${per === "hour" ? optionText` or ${mention("per", { value: "day" })}` : ""} (windows far from the rest may have wrong times)`,
      "E_REPORT_PERIODS",
    );
  const groups: (Protocol | "all")[] = [
    "all",
    ...PROTOCOLS.filter((p) => tracks.some((t) => t.protocol === p)),
  ];
  const totals = groups.map((protocol): AdoptionRow => {
    const mine = tracks.filter((t) => protocol === "all" || t.protocol === protocol);
    const ws = inPeriod.filter((w) => protocol === "all" || w.protocol === protocol);
    const ids = new Set(ws.map((w) => `${w.protocol}:${toHex(w.rollingId)}`));
    const row: AdoptionRow = {
      protocol,
      devices: mine.length,
      rollingIds: ids.size,
      windows: ws.length,
      dwell: dwellSummary(mine.map((t) => (t.endMs - t.startMs) / 1000)),
    };
    return options.footfall ? { ...row, share: mine.length / options.footfall } : row;
  });
  const buckets: AdoptionBucketRow[] = [];
  const first = Math.floor(fromMs / sizeMs) * sizeMs;
  for (let b = first; b < toMs; b += sizeMs) {
    for (const protocol of groups) {
      const present = tracks.filter(
        (t) =>
          (protocol === "all" || t.protocol === protocol) && t.endMs >= b && t.startMs < b + sizeMs,
      );
      const dwell = present.map((t) => (t.endMs - t.startMs) / 1000).sort((x, y) => x - y);
      buckets.push({
        startMs: b,
        protocol,
        devices: present.length,
        arrivals: present.filter((t) => t.startMs >= b).length,
        dwellP50S: quantile(dwell, 0.5),
        dwellP90S: quantile(dwell, 0.9),
      });
    }
  }
  return {
    fromMs,
    toMs,
    per,
    ...(options.footfall ? { footfall: options.footfall } : {}),
    totals,
    buckets,
    untrustedWindows: inPeriod.filter((w) => !w.clockTrusted).length,
  };
}

function isoOrRaw(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

function dwellSummary(dwellS: number[]): DwellSummary {
  const sorted = [...dwellS].sort((a, b) => a - b);
  const histogram = new Array<number>(DWELL_BUCKETS_S.length + 1).fill(0);
  for (const d of sorted) {
    let k = 0;
    while (k < DWELL_BUCKETS_S.length && d >= DWELL_BUCKETS_S[k]) k++;
    histogram[k]++;
  }
  return {
    meanS: sorted.length ? round1(sorted.reduce((s, d) => s + d, 0) / sorted.length) : 0,
    p10S: quantile(sorted, 0.1),
    p50S: quantile(sorted, 0.5),
    p90S: quantile(sorted, 0.9),
    histogram,
  };
}

/** Linear-interpolated quantile of sorted values (0 when empty), rounded to 0.1. */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const x = q * (sorted.length - 1);
  const i = Math.floor(x);
  const j = Math.min(i + 1, sorted.length - 1);
  return round1(sorted[i] + (x - i) * (sorted[j] - sorted[i]));
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function lowerBound(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
