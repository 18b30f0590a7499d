/**
 * Validation of a channel profile against a measured campaign: for every measured record the
 * model draws one RSSI for the same link (distance, environment, carry pair, device models),
 * with one shadowing draw per cell (a placement) and fresh fading per record, cut at the
 * sensitivity like a phone (a record the model does not receive is dropped, as the measured
 * ones were only seen when received). Per distance bin, and carry pair where the campaign has
 * more than one, the measured and simulated RSSI are compared by the Wasserstein-1 distance (dB)
 * and the Kolmogorov-Smirnov statistic.
 */
import type { CampaignName } from "../src/campaigns/campaign-record.js";
import { SeededRandom } from "../src/core/random.js";
import { CHANNEL_CAMPAIGNS, type ChannelData, cellDeviceDb } from "../sim/world/channel-data.js";
import { heraldOnlyProfile } from "../sim/world/channel-profiles.js";
import {
  type ChannelLink,
  type ChannelProfile,
  linkMeanDbm,
  linkShadowingSdDb,
  reportRssi,
  sampleFadingDb,
} from "../sim/world/channel-v2.js";
import { type ChannelFitOptions, fitChannel } from "./fit-channel.js";
import { randomNormal } from "../sim/world/random-normal.js";

/** Distance bins, m: [edge_i, edge_{i+1}). */
export const DISTANCE_BIN_EDGES_M: readonly number[] = [0, 0.5, 1, 1.5, 2, 3, 4, 6, 1000];

/** Bins with fewer measured samples than this are not compared. */
export const MIN_BIN_SAMPLES = 30;

function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/**
 * Wasserstein-1 distance between two empirical distributions (∫|F - G| dx), in their unit, and
 * the Kolmogorov-Smirnov statistic (sup |F - G|).
 */
export function compareDistributions(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): { w1: number; ks: number } {
  if (a.length === 0 || b.length === 0) return { w1: Number.NaN, ks: Number.NaN };
  const x = sortedCopy(a);
  const y = sortedCopy(b);
  let i = 0;
  let j = 0;
  let w1 = 0;
  let ks = 0;
  let prev = Math.min(x[0], y[0]);
  while (i < x.length || j < y.length) {
    const next = j >= y.length || (i < x.length && x[i] <= y[j]) ? x[i] : y[j];
    w1 += Math.abs(i / x.length - j / y.length) * (next - prev);
    while (i < x.length && x[i] === next) i++;
    while (j < y.length && y[j] === next) j++;
    ks = Math.max(ks, Math.abs(i / x.length - j / y.length));
    prev = next;
  }
  return { w1, ks };
}

/** The bin of a distance (index into `DISTANCE_BIN_EDGES_M`). */
export function distanceBin(distanceM: number): number {
  for (let b = DISTANCE_BIN_EDGES_M.length - 2; b >= 0; b--)
    if (distanceM >= DISTANCE_BIN_EDGES_M[b]) return b;
  return 0;
}

export function binLabel(bin: number): string {
  const lo = DISTANCE_BIN_EDGES_M[bin];
  const hi = DISTANCE_BIN_EDGES_M[bin + 1];
  return hi >= 1000 ? `≥${lo} m` : `${lo}-${hi} m`;
}

export interface BinComparison {
  /** "1-1.5 m" or "1-1.5 m hand/bag" (receiver carry / sender carry). */
  readonly label: string;
  readonly measured: number;
  readonly simulated: number;
  readonly w1Db: number;
  readonly ks: number;
}

export interface CampaignValidation {
  readonly campaign: CampaignName;
  readonly profile: string;
  readonly bins: readonly BinComparison[];
  readonly medianW1Db: number;
  readonly medianKs: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Compares `profile`'s draws with the measured RSSI of `campaign`, bin by bin (seeded). */
export function validateProfile(
  profile: ChannelProfile,
  data: ChannelData,
  campaign: CampaignName,
  seed = 1,
): CampaignValidation {
  const samples = data.samples.get(campaign) ?? [];
  const random = new SeededRandom(seed);
  const scheme = profile.devices.value;
  // Per cell: its link, mean and a shadowing draw.
  const cellMean = new Map<number, number>();
  const carryPairs = new Set<string>();
  for (const s of samples) {
    if (cellMean.has(s.cell)) continue;
    const c = data.cells[s.cell];
    carryPairs.add(`${c.rxCarry}/${c.txCarry}`);
    const link: ChannelLink = {
      distanceM: c.distanceM,
      environment: c.environment,
      rxCarry: c.rxCarry,
      txCarry: c.txCarry,
      ...cellDeviceDb(scheme, data.calibration, c),
    };
    cellMean.set(
      s.cell,
      linkMeanDbm(profile, link) + linkShadowingSdDb(profile, link) * randomNormal(random),
    );
  }
  const byCarry = carryPairs.size > 1;
  const groups = new Map<string, { measured: number[]; simulated: number[]; order: number }>();
  for (const s of samples) {
    const c = data.cells[s.cell];
    const bin = distanceBin(c.distanceM);
    const label = byCarry ? `${binLabel(bin)} ${c.rxCarry}/${c.txCarry}` : binLabel(bin);
    let g = groups.get(label);
    if (!g) {
      g = { measured: [], simulated: [], order: bin };
      groups.set(label, g);
    }
    g.measured.push(s.rssiDbm);
    const sim = reportRssi(
      profile,
      (cellMean.get(s.cell) ?? 0) + sampleFadingDb(profile.fading.value, random),
    );
    if (sim !== undefined) g.simulated.push(sim);
  }
  const bins: BinComparison[] = [];
  for (const [label, g] of [...groups].sort(
    (x, y) => x[1].order - y[1].order || (x[0] < y[0] ? -1 : 1),
  )) {
    if (g.measured.length < MIN_BIN_SAMPLES) continue;
    const { w1, ks } =
      g.simulated.length === 0
        ? { w1: Number.POSITIVE_INFINITY, ks: 1 }
        : compareDistributions(g.measured, g.simulated);
    bins.push({
      label,
      measured: g.measured.length,
      simulated: g.simulated.length,
      w1Db: w1,
      ks,
    });
  }
  return {
    campaign,
    profile: profile.name,
    bins,
    medianW1Db: median(bins.map((b) => b.w1Db)),
    medianKs: median(bins.map((b) => b.ks)),
  };
}

/** The structural variants leave-one-campaign-out chooses between. */
export const CHANNEL_VARIANTS: readonly ChannelFitOptions[] = [
  { devices: "calibration-table+anechoic", environmentOffsets: false },
  { devices: "calibration-table+anechoic", environmentOffsets: true },
  { devices: "calibration-table+anechoic", environmentOffsets: false, ridge: 0.1 },
  { devices: "calibration-table+anechoic", environmentOffsets: false, ridge: 0.3 },
  { devices: "calibration-table+anechoic", environmentOffsets: false, ridge: 1 },
  { devices: "calibration-table+anechoic", environmentOffsets: false, carryLosses: false },
  { devices: "calibration-table", environmentOffsets: false },
  { devices: "anechoic-relative", environmentOffsets: false },
  { devices: "none", environmentOffsets: false },
  { devices: "none", environmentOffsets: true },
];

export function variantName(v: ChannelFitOptions): string {
  return `devices=${v.devices}${v.environmentOffsets ? " +environment" : ""}${v.carryLosses === false ? " -carry" : ""}${v.ridge === undefined ? "" : ` ridge=${v.ridge}`}`;
}

/** One held-out campaign's result for one profile. */
export interface HeldOutRow {
  readonly campaign: CampaignName;
  readonly bins: number;
  readonly medianW1Db: number;
  readonly medianKs: number;
}

export interface ChannelFitReport {
  /** The profile fitted on every campaign with the chosen variant. */
  readonly profile: ChannelProfile;
  readonly chosen: ChannelFitOptions;
  /** Per variant: held-out rows and the mean of their median W1. */
  readonly variants: readonly {
    readonly variant: string;
    readonly rows: readonly HeldOutRow[];
    readonly meanMedianW1Db: number;
  }[];
  /** The herald-only profile on each campaign (it was fitted on none of them but the rig). */
  readonly heraldOnly: readonly HeldOutRow[];
  /**
   * The chosen variant fitted on every campaign, held-out one included, with that campaign's
   * own level: about the floor a model of this structure reaches on the metric (one shadowing
   * draw per placement and few placements per bin keep it well above 0).
   */
  readonly inSample: readonly HeldOutRow[];
  /** Per held-out campaign, the chosen variant's bins (fitted without that campaign). */
  readonly heldOutBins: readonly CampaignValidation[];
  readonly heraldOnlyBins: readonly CampaignValidation[];
}

function row(v: CampaignValidation): HeldOutRow {
  return {
    campaign: v.campaign,
    bins: v.bins.length,
    medianW1Db: v.medianW1Db,
    medianKs: v.medianKs,
  };
}

/**
 * Leave one campaign out over `CHANNEL_VARIANTS`: for each campaign, fit on the others and
 * validate on it; the variant with the lowest mean (over held-out campaigns) of the median
 * per-bin W1 is chosen and fitted on all campaigns.
 */
export function channelFitReport(
  data: ChannelData,
  campaigns: readonly CampaignName[] = CHANNEL_CAMPAIGNS,
  heraldOnly: ChannelProfile = heraldOnlyProfile(),
): ChannelFitReport {
  const seed = (i: number) => 1000 + i;
  const variants = CHANNEL_VARIANTS.map((variant) => {
    const validations = campaigns.map((held, i) =>
      validateProfile(
        fitChannel(
          data,
          campaigns.filter((c) => c !== held),
          variant,
          `v2 without ${held}`,
        ),
        data,
        held,
        seed(i),
      ),
    );
    const rows = validations.map(row);
    return {
      variant: variantName(variant),
      options: variant,
      validations,
      rows,
      meanMedianW1Db: rows.reduce((s, r) => s + r.medianW1Db, 0) / rows.length,
    };
  });
  let best = variants[0];
  for (const v of variants) if (v.meanMedianW1Db < best.meanMedianW1Db) best = v;
  const heraldOnlyBins = campaigns.map((c, i) => validateProfile(heraldOnly, data, c, seed(i)));
  const profile = fitChannel(data, campaigns, best.options);
  return {
    profile,
    inSample: campaigns.map((c, i) => {
      const own: ChannelProfile = {
        ...profile,
        refPowerDbm: {
          value: profile.refPowerDbm.value + (profile.campaignOffsetDb?.value[c] ?? 0),
          source: `its own level (${c})`,
        },
      };
      return row(validateProfile(own, data, c, seed(i)));
    }),
    chosen: best.options,
    variants: variants.map((v) => ({
      variant: v.variant,
      rows: v.rows,
      meanMedianW1Db: v.meanMedianW1Db,
    })),
    heraldOnly: heraldOnlyBins.map(row),
    heldOutBins: best.validations,
    heraldOnlyBins,
  };
}

/** The leave-one-campaign-out table: chosen v2 vs herald-only, per held-out campaign (Markdown). */
export function channelLocoTable(report: ChannelFitReport): string {
  const chosen = report.variants.find((v) => v.variant === variantName(report.chosen))!;
  const lines = [
    "| held-out campaign | bins | v2 median W1 (dB) | herald-only median W1 (dB) | v2 median KS | herald-only median KS | floor: v2 in sample, own level, W1 / KS | target (v2 < herald-only, ≤ 3 dB) |",
    "|---|---|---|---|---|---|---|---|",
  ];
  chosen.rows.forEach((r, i) => {
    const h = report.heraldOnly[i];
    const s = report.inSample[i];
    const met = r.medianW1Db < h.medianW1Db && r.medianW1Db <= 3;
    lines.push(
      `| ${r.campaign} | ${r.bins} | ${r.medianW1Db.toFixed(2)} | ${h.medianW1Db.toFixed(2)} | ${r.medianKs.toFixed(3)} | ${h.medianKs.toFixed(3)} | ${s.medianW1Db.toFixed(2)} / ${s.medianKs.toFixed(3)} | ${met ? "met" : "not met"} |`,
    );
  });
  return lines.join("\n");
}

/** Per-variant held-out median W1 (Markdown), the evidence for what the model keeps. */
export function channelVariantTable(report: ChannelFitReport): string {
  const campaigns = report.heraldOnly.map((r) => r.campaign);
  const lines = [
    `| variant | ${campaigns.join(" | ")} | mean |`,
    `|---|${campaigns.map(() => "---").join("|")}|---|`,
  ];
  for (const v of report.variants)
    lines.push(
      `| ${v.variant} | ${v.rows.map((r) => r.medianW1Db.toFixed(2)).join(" | ")} | ${v.meanMedianW1Db.toFixed(2)} |`,
    );
  return lines.join("\n");
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** The JSON written to `channel-profiles/v2.json`: the profile plus how it was chosen. */
export function channelProfileFile(report: ChannelFitReport): unknown {
  return {
    ...report.profile,
    fit: {
      script: "scripts/fit-channel.ts",
      data: "../shared/data (read at run time)",
      chosenVariant: variantName(report.chosen),
      dropped: [
        "per advertising channel offset: no campaign loader labels the channel (CampaignRecord.channel is unset everywhere)",
        "body orientation shadowing: no loader keeps MIT's self_pose/Angle lines, nothing else labels orientation",
        "a fitted far slope: the data spans 0.2-6 m, where one slope carries over; beyond 6 m the profile assumes ITU-R P.1238's office exponent (breakpointM, exponentFar)",
        "a loss for a mounted phone (rig, stand) apart from the hand: only the Herald rig and the Pi campaign have one, and their levels are confounded with their receivers (mount = hand = 0)",
        "a level per campaign: fitted (campaignOffsetDb) but not carried over; a new campaign gets their mean",
        ...(report.chosen.environmentOffsets
          ? []
          : [
              "environment offsets: leave-one-campaign-out prefers the model without them (see leaveOneCampaignOut): rig, vehicle and outdoor each occur in one campaign only",
            ]),
        ...(report.chosen.devices === "none"
          ? [
              "device terms: leave-one-campaign-out prefers the model without the calibration table and anechoic offsets",
            ]
          : []),
      ],
      leaveOneCampaignOut: report.variants.map((v) => ({
        variant: v.variant,
        meanMedianW1Db: r3(v.meanMedianW1Db),
        heldOut: v.rows.map((r) => ({
          campaign: r.campaign,
          bins: r.bins,
          medianW1Db: r3(r.medianW1Db),
          medianKs: r3(r.medianKs),
        })),
      })),
      inSample: report.inSample.map((r) => ({
        campaign: r.campaign,
        bins: r.bins,
        medianW1Db: r3(r.medianW1Db),
        medianKs: r3(r.medianKs),
      })),
      heraldOnly: report.heraldOnly.map((r) => ({
        campaign: r.campaign,
        bins: r.bins,
        medianW1Db: r3(r.medianW1Db),
        medianKs: r3(r.medianKs),
      })),
    },
  };
}
