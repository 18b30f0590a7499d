/**
 * Fits channel model v2 (`channel-v2.ts`) on measured campaigns (`channel-data.ts`).
 *
 * Mean: weighted least squares on cell means (one stream at one distance), each campaign
 * weighing the same and each cell within it by min(samples, 50), with a level per campaign
 * (so that the slope, carry and environment terms are fitted within campaigns, and the spread
 * is the spread within a campaign); a new campaign gets the mean level P0:
 *
 *   meanDbm - txDeviceDb - rxDeviceDb = P0[campaign] - 10 n log10(max(d, dmin))
 *                                      - carry(rx) - carry(tx) [+ env(environment)]
 *
 * with carry(hand) = carry(mount) = 0 (a phone on a stand or rig: only the rig and the Pi
 * campaigns have one, and their level is confounded with their receivers), `unknown` the equal mixture of hand, pocket
 * and bag, a carry position not seen in training resolved by the model's fallbacks (front,
 * back and shirt pockets to "pocket", "pocket" to front pocket, table to hand), and a small
 * ridge on the carry and environment terms. Spread: shadowing σ from the cells' residuals (less
 * the fading's share of a cell mean), fading σ from the pooled within-cell variance; the
 * shadowing time constant from the variogram of 1-s means of links carried by people standing
 * still, with a clock (body-position, MIT), γ(L) = nugget + sill·(1 - exp(-L/τ)).
 */
import type { CampaignName, CarryPosition, Environment } from "../src/campaigns/campaign-record.js";
import { type ChannelData, cellDeviceDb } from "../sim/world/channel-data.js";
import type { ChannelProfile, DeviceScheme, Sourced } from "../sim/world/channel-v2.js";

export interface ChannelFitOptions {
  readonly devices: DeviceScheme;
  /** Fit an offset per environment class (else one mean for all). */
  readonly environmentOffsets: boolean;
  /** Fit carry-position losses (default true; false: every position loses 0 dB). */
  readonly carryLosses?: boolean;
  /** Ridge on the carry and environment terms [`CHANNEL_RIDGE_LAMBDA`]. */
  readonly ridge?: number;
}

/** Ridge per dB² on carry and environment terms, in units of one campaign's weight. */
export const CHANNEL_RIDGE_LAMBDA = 0.01;
/** Cells weigh min(samples, this) within their campaign. */
export const CELL_WEIGHT_CAP = 50;
/** The distance below which the path loss stays flat (phones touching), m: a choice. */
export const CHANNEL_MIN_DISTANCE_M = 0.1;
/** Beyond the campaigns' distances (0.2-6 m), the path loss follows `FAR_EXPONENT`. */
export const FAR_BREAKPOINT_M = 6;
/** ITU-R P.1238's office exponent, as `herald-only` uses past its rig. */
export const FAR_EXPONENT = 3;
/** The quantile of each campaign's reported RSSI taken as its receivers' sensitivity. */
export const SENSITIVITY_QUANTILE = 0.001;
/**
 * Campaigns with a real clock and people carrying the phones, for the shadowing time constant
 * (the Herald rig, no people, hardly drifts at all: τ of hours; pi-multichannel has no clock).
 */
export const TAU_CAMPAIGNS: readonly CampaignName[] = ["body-position", "mit-matrix"];
export const VARIOGRAM_LAGS_S: readonly number[] = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600];

const UNKNOWN_MIX: readonly CarryPosition[] = ["hand", "pocket", "bag"];
const FALLBACK: Partial<Record<CarryPosition, CarryPosition>> = {
  "shirt-pocket": "pocket",
  "front-pocket": "pocket",
  "back-pocket": "pocket",
  pocket: "front-pocket",
  table: "hand",
};

const r2 = (x: number) => Math.round(x * 100) / 100;

/** Solves `a x = b` by Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let k = r + 1; k < n; k++) s -= m[r][k] * x[k];
    x[r] = s / m[r][r];
  }
  return x;
}

function sourceOf(campaigns: Iterable<string>): string {
  return [...new Set(campaigns)].sort().join(", ");
}

/** Fits a v2 profile on the cells of `campaigns`. */
export function fitChannel(
  data: ChannelData,
  campaigns: readonly CampaignName[],
  options: ChannelFitOptions,
  name = "v2",
): ChannelProfile {
  const training = new Set(campaigns);
  const cellIds = data.cells.flatMap((c, i) => (training.has(c.campaign) ? [i] : []));
  const cells = cellIds.map((i) => data.cells[i]);
  // Carry levels and environments seen, with their campaigns.
  const carryCampaigns = new Map<CarryPosition, Set<string>>();
  const envCampaigns = new Map<Environment, Set<string>>();
  for (const c of cells) {
    for (const carry of [c.rxCarry, c.txCarry]) {
      if (options.carryLosses === false) continue;
      if (carry === "unknown" || carry === "mount" || carry === "hand") continue;
      if (!carryCampaigns.has(carry)) carryCampaigns.set(carry, new Set());
      carryCampaigns.get(carry)!.add(c.campaign);
    }
    if (!envCampaigns.has(c.environment)) envCampaigns.set(c.environment, new Set());
    envCampaigns.get(c.environment)!.add(c.campaign);
  }
  const carryLevels = [...carryCampaigns.keys()].sort();
  const envLevels = options.environmentOffsets ? [...envCampaigns.keys()].sort() : [];
  const resolve = (carry: CarryPosition): CarryPosition | undefined => {
    let c: CarryPosition | undefined = carry;
    for (let i = 0; i < 3 && c !== undefined; i++) {
      if (c === "mount" || c === "hand") return undefined;
      if (carryCampaigns.has(c)) return c;
      c = FALLBACK[c];
    }
    return undefined;
  };
  const mix = UNKNOWN_MIX;
  const trainingList = [...training].sort();
  const k0 = trainingList.length;
  const p = k0 + 1 + carryLevels.length + envLevels.length;
  const carryIndex = (c: CarryPosition) => {
    const r = resolve(c);
    return r === undefined ? -1 : k0 + 1 + carryLevels.indexOf(r);
  };
  const row = (c: (typeof cells)[number]): number[] => {
    const x = new Array<number>(p).fill(0);
    x[trainingList.indexOf(c.campaign)] = 1;
    x[k0] = -10 * Math.log10(Math.max(c.distanceM, CHANNEL_MIN_DISTANCE_M));
    for (const carry of [c.rxCarry, c.txCarry]) {
      const members = carry === "unknown" ? mix : [carry];
      for (const m of members) {
        const k = carryIndex(m);
        if (k >= 0) x[k] -= 1 / members.length;
      }
    }
    const e = envLevels.indexOf(c.environment);
    if (e >= 0) x[k0 + 1 + carryLevels.length + e] = 1;
    return x;
  };
  // Weights: campaigns equal, cells by min(count, cap).
  const campaignTotal = new Map<string, number>();
  for (const c of cells)
    campaignTotal.set(
      c.campaign,
      (campaignTotal.get(c.campaign) ?? 0) + Math.min(c.count, CELL_WEIGHT_CAP),
    );
  const weight = (c: (typeof cells)[number]) =>
    Math.min(c.count, CELL_WEIGHT_CAP) / (campaignTotal.get(c.campaign) ?? 1);
  const device = cells.map((c) => cellDeviceDb(options.devices, data.calibration, c));
  const y = cells.map((c, i) => c.meanDbm - device[i].txDeviceDb - device[i].rxDeviceDb);
  const xs = cells.map(row);
  const ata = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  const atb = new Array<number>(p).fill(0);
  for (let i = 0; i < cells.length; i++) {
    const w = weight(cells[i]);
    const x = xs[i];
    for (let a = 0; a < p; a++) {
      if (x[a] === 0) continue;
      atb[a] += w * x[a] * y[i];
      for (let b = 0; b < p; b++) ata[a][b] += w * x[a] * x[b];
    }
  }
  const ridge = options.ridge ?? CHANNEL_RIDGE_LAMBDA;
  for (let a = k0 + 1; a < p; a++) ata[a][a] += ridge;
  const beta = solve(ata, atb);
  // A new campaign's level: the mean of the training campaigns' levels.
  const intercepts = beta.slice(0, k0);
  const refPowerDbm = intercepts.reduce((a, b) => a + b, 0) / k0;
  const betweenCampaignSdDb = Math.sqrt(
    intercepts.reduce((a, b) => a + (b - refPowerDbm) ** 2, 0) / Math.max(1, k0 - 1),
  );
  // Spread.
  let wSum = 0;
  let shadow2 = 0;
  let fadeW = 0;
  let fade2 = 0;
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i];
    const w = weight(c);
    const fit = xs[i].reduce((s, x, k) => s + x * beta[k], 0);
    shadow2 += w * ((y[i] - fit) ** 2 - c.varianceDb2 / c.count);
    wSum += w;
    if (c.count >= 2) {
      fade2 += w * c.varianceDb2 * (c.count / (c.count - 1));
      fadeW += w;
    }
  }
  const shadowingSigmaDb = Math.sqrt(Math.max(0, shadow2 / wSum));
  const fadingSigmaDb = Math.sqrt(fade2 / fadeW);
  const tauCampaigns = TAU_CAMPAIGNS.filter((c) => training.has(c));
  const tau = fitShadowingTau(data, tauCampaigns);
  // Reported range, from the training samples. The weakest readings within 6 m are shadowing
  // and fading outliers (one campaign reports -116 dBm), not the receivers' limit: the
  // sensitivity is the median over campaigns of each one's 0.1 % quantile.
  let maxDbm = Number.NEGATIVE_INFINITY;
  const lowQuantiles: number[] = [];
  for (const c of campaigns) {
    const rssi = (data.samples.get(c) ?? []).map((s) => s.rssiDbm);
    if (rssi.length === 0) continue;
    for (const r of rssi) if (r > maxDbm) maxDbm = r;
    rssi.sort((a, b) => a - b);
    lowQuantiles.push(rssi[Math.floor(SENSITIVITY_QUANTILE * (rssi.length - 1))]);
  }
  lowQuantiles.sort((a, b) => a - b);
  const sensitivityDbm = lowQuantiles[Math.floor((lowQuantiles.length - 1) / 2)];
  const fitted = sourceOf(campaigns);
  const carryLossDb: Partial<Record<CarryPosition, number>> = { hand: 0, mount: 0 };
  carryLevels.forEach((c, k) => {
    carryLossDb[c] = r2(beta[k0 + 1 + k]);
  });
  const environmentOffsetDb: Partial<Record<Environment, number>> = {};
  envLevels.forEach((e, k) => {
    environmentOffsetDb[e] = r2(beta[k0 + 1 + carryLevels.length + k]);
  });
  const sourced = <T>(value: T, source: string): Sourced<T> => ({ value, source });
  return {
    name,
    description: `channel model v2 fitted on ${fitted} (scripts/fit-channel.ts); devices ${options.devices}, ${options.environmentOffsets ? "an offset per environment class" : "no environment offsets"}${options.carryLosses === false ? ", no carry losses" : ""}, ridge ${options.ridge ?? CHANNEL_RIDGE_LAMBDA}`,
    devices: sourced(
      options.devices,
      options.devices === "calibration-table+anechoic"
        ? "Google EN calibration table 2020-06-13 (../shared/data/gaen) + src/signal/device-offsets.json (dp3t-anechoic); chosen by leave one campaign out"
        : "chosen by leave one campaign out",
    ),
    refPowerDbm: sourced(
      r2(refPowerDbm),
      `mean of the campaign levels of ${fitted} (each campaign has its own level in the fit)`,
    ),
    campaignOffsetDb: sourced(
      Object.fromEntries(trainingList.map((c, k) => [c, r2(intercepts[k] - refPowerDbm)])),
      `not used by the model: each campaign's level less refPowerDbm (SD ${r2(betweenCampaignSdDb)} dB), the error to expect on a new campaign's level`,
    ),
    exponentNear: sourced(r2(beta[k0]), `within campaigns: ${fitted}`),
    breakpointM: sourced(
      FAR_BREAKPOINT_M,
      "the end of the data (0.2-6 m): one slope carries over within it, beyond it nothing was measured",
    ),
    exponentFar: sourced(
      FAR_EXPONENT,
      "an assumption beyond the data, which stops at 6 m: ITU-R P.1238's office exponent, as herald-only uses past its rig",
    ),
    minDistanceM: sourced(CHANNEL_MIN_DISTANCE_M, "choice (phones touching)"),
    environmentOffsetDb: sourced(
      environmentOffsetDb,
      options.environmentOffsets
        ? envLevels.map((e) => `${e}: ${sourceOf(envCampaigns.get(e)!)}`).join("; ")
        : "dropped: environment classes do not carry over between campaigns (leave one campaign out)",
    ),
    carryLossDb: sourced(
      carryLossDb,
      `hand: reference 0; mount: as hand (a phone on a stand or rig, not separable from the campaign's level); ${carryLevels.map((c) => `${c}: ${sourceOf(carryCampaigns.get(c)!)}`).join("; ")}`,
    ),
    unknownCarryMix: sourced(mix, "choice: equal mixture of hand, pocket and bag"),
    shadowingSigmaDb: sourced(r2(shadowingSigmaDb), `cell residuals within campaigns: ${fitted}`),
    shadowingTauS: sourced(
      Math.round(tau),
      `variogram of 1-s means on ${sourceOf(tauCampaigns)} (people standing still, with a clock)`,
    ),
    shadowingDecorrelationM: sourced(
      0.5,
      "herald-edison via sim/world/propagation.ts (placements 0.2 m apart decorrelate)",
    ),
    fading: sourced({ kind: "gaussian", sigmaDb: r2(fadingSigmaDb) }, fitted),
    sensitivityDbm: sourced(
      sensitivityDbm,
      `median over ${fitted} of each campaign's 0.1 % quantile of reported RSSI (the weakest single readings are outliers)`,
    ),
    saturationDbm: sourced(maxDbm, `strongest RSSI reported in ${fitted}`),
  };
}

/**
 * The empirical variogram of 1-s means of RSSI within cells, per lag (s), campaigns weighing
 * the same: γ(L) = ½ E[(b(t+L) - b(t))²].
 */
export function shadowingVariogram(
  data: ChannelData,
  campaigns: readonly CampaignName[],
  lags: readonly number[] = VARIOGRAM_LAGS_S,
): number[] {
  const gamma = new Array<number>(lags.length).fill(0);
  const used = new Array<number>(lags.length).fill(0);
  for (const campaign of campaigns) {
    const samples = data.samples.get(campaign) ?? [];
    // 1-s bins per cell.
    const bins = new Map<number, Map<number, { s: number; n: number }>>();
    for (const s of samples) {
      let m = bins.get(s.cell);
      if (!m) {
        m = new Map();
        bins.set(s.cell, m);
      }
      const k = Math.floor(s.atS);
      const b = m.get(k);
      if (b) {
        b.s += s.rssiDbm;
        b.n++;
      } else m.set(k, { s: s.rssiDbm, n: 1 });
    }
    const sum = new Array<number>(lags.length).fill(0);
    const count = new Array<number>(lags.length).fill(0);
    for (const m of bins.values()) {
      for (const [k, b] of m) {
        const v = b.s / b.n;
        lags.forEach((lag, li) => {
          const o = m.get(k + lag);
          if (o) {
            sum[li] += 0.5 * (o.s / o.n - v) ** 2;
            count[li]++;
          }
        });
      }
    }
    lags.forEach((_, li) => {
      if (count[li] === 0) return;
      gamma[li] += sum[li] / count[li];
      used[li]++;
    });
  }
  return gamma.map((g, li) => (used[li] > 0 ? g / used[li] : Number.NaN));
}

/**
 * τ of γ(L) = nugget + sill·(1 - exp(-L/τ)) by least squares over a log grid (1 s to 10⁶ s),
 * nugget and sill (≥ 0) solved for each τ: the time constant of the part of the signal that
 * drifts while a placement lasts (the shadowing of the model decorrelates at this rate).
 */
export function fitShadowingTau(
  data: ChannelData,
  campaigns: readonly CampaignName[],
  lags: readonly number[] = VARIOGRAM_LAGS_S,
): number {
  return fitTauToVariogram(lags, shadowingVariogram(data, campaigns, lags));
}

export function fitTauToVariogram(lags: readonly number[], gamma: readonly number[]): number {
  const ok = lags.flatMap((_, i) => (Number.isFinite(gamma[i]) ? [i] : []));
  if (ok.length < 3) return Number.NaN;
  let best = Number.POSITIVE_INFINITY;
  let bestTau = Number.NaN;
  for (let e = 0; e <= 600; e++) {
    const tau = 10 ** (e / 100);
    // Least squares for nugget a and sill b in γ = a + b·g, g = 1 - exp(-L/τ), both ≥ 0.
    let sg = 0;
    let sgg = 0;
    let sy = 0;
    let sgy = 0;
    for (const i of ok) {
      const g = 1 - Math.exp(-lags[i] / tau);
      sg += g;
      sgg += g * g;
      sy += gamma[i];
      sgy += g * gamma[i];
    }
    const n = ok.length;
    const det = n * sgg - sg * sg;
    let b = det > 1e-12 ? (n * sgy - sg * sy) / det : 0;
    let a = (sy - b * sg) / n;
    if (a < 0) {
      a = 0;
      b = sgg > 0 ? sgy / sgg : 0;
    }
    if (b < 0) {
      b = 0;
      a = sy / n;
    }
    let sse = 0;
    for (const i of ok) sse += (gamma[i] - a - b * (1 - Math.exp(-lags[i] / tau))) ** 2;
    if (sse < best - 1e-12) {
      best = sse;
      bestTau = tau;
    }
  }
  return bestTau;
}
