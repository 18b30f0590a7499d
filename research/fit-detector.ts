/**
 * Fits our detector's two numbers across campaigns: the attenuation at which "within 2 m" is as
 * likely as not (`closeAttenuationDb`) and how fast that chance falls with attenuation
 * (`closeScaleDb`): a logistic regression of "within `closeDistanceM`" on a scan-like
 * attenuation (a short window's median, as a scan instance's typical attenuation is) in each
 * campaign, close and far instants weighing the same so a campaign's share of close instants
 * does not move its midpoint; then the median over campaigns of each number. The median, not
 * one fit of the pooled points: a campaign whose devices nobody calibrated (pi-multichannel's
 * Raspberry Pi, midpoint 36 dB against 55-63 dB elsewhere) would drag a pooled midpoint by
 * several dB and widen its scale threefold, while it moves the median by one campaign's rank.
 */
import { ConfigError } from "../src/core/errors.js";
import { type FitPoint, median } from "../src/signal/distance/fit-points.js";

export interface DetectorFit {
  readonly closeAttenuationDb: number;
  readonly closeScaleDb: number;
}

/** Training points of one campaign. */
export interface CampaignPoints {
  readonly campaign: string;
  readonly points: readonly FitPoint[];
}

/**
 * The detector's numbers: the median over campaigns of each campaign's own logistic fit (see
 * the file comment).
 */
export function fitDetector(campaigns: readonly CampaignPoints[], closeDistanceM = 2): DetectorFit {
  const fits = campaigns.flatMap((c) => {
    const close = c.points.filter((p) => p.distanceM <= closeDistanceM).length;
    return close === 0 || close === c.points.length ? [] : [fitLogistic([c], closeDistanceM)];
  });
  if (fits.length === 0)
    throw new ConfigError(
      `fitting the detector needs a campaign with points both within and beyond ${closeDistanceM} m`,
    );
  return {
    closeAttenuationDb: median(fits.map((f) => f.closeAttenuationDb)),
    closeScaleDb: median(fits.map((f) => f.closeScaleDb)),
  };
}

/**
 * Weighted logistic regression `P(close | a) = 1 / (1 + exp((a - midpoint) / scale))` by
 * Newton's method on (intercept, slope) of the log-odds, over the pooled points of `campaigns`
 * (each campaign and class weighted equally).
 */
export function fitLogistic(campaigns: readonly CampaignPoints[], closeDistanceM = 2): DetectorFit {
  const x: number[] = [];
  const y: number[] = [];
  const w: number[] = [];
  for (const c of campaigns) {
    const close = c.points.filter((p) => p.distanceM <= closeDistanceM).length;
    const far = c.points.length - close;
    if (close === 0 || far === 0) continue;
    for (const p of c.points) {
      const isClose = p.distanceM <= closeDistanceM;
      x.push(p.value);
      y.push(isClose ? 1 : 0);
      w.push(1 / (2 * (isClose ? close : far)));
    }
  }
  if (x.length === 0)
    throw new ConfigError(
      `fitting the detector needs a campaign with points both within and beyond ${closeDistanceM} m`,
    );
  // Centre x for a well-conditioned Newton step.
  const mean = x.reduce((s, v, i) => s + v * w[i], 0) / w.reduce((s, v) => s + v, 0);
  let b0 = 0;
  let b1 = 0;
  for (let iteration = 0; iteration < 100; iteration++) {
    let g0 = 0;
    let g1 = 0;
    let h00 = 0;
    let h01 = 0;
    let h11 = 0;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i] - mean;
      const p = 1 / (1 + Math.exp(-(b0 + b1 * xi)));
      const r = w[i] * (y[i] - p);
      const v = w[i] * p * (1 - p);
      g0 += r;
      g1 += r * xi;
      h00 += v;
      h01 += v * xi;
      h11 += v * xi * xi;
    }
    const det = h00 * h11 - h01 * h01;
    if (!(det > 0)) break;
    const d0 = (h11 * g0 - h01 * g1) / det;
    const d1 = (h00 * g1 - h01 * g0) / det;
    b0 += d0;
    b1 += d1;
    if (Math.abs(d0) < 1e-10 && Math.abs(d1) < 1e-12) break;
  }
  // log-odds of close = b0 + b1 (a - mean), b1 < 0: the midpoint where it is 0, scale -1 / b1.
  if (!(b1 < 0))
    throw new ConfigError("the training attenuation does not grow with distance: no detector fit");
  return { closeAttenuationDb: mean - b0 / b1, closeScaleDb: -1 / b1 };
}
