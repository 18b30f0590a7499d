/** The median of a Gamma distribution, for the posterior distance of the unscented filter. */

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; Numerical Recipes 3rd ed. §6.1 coefficients). */
export function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let sum = c[0];
  for (let i = 1; i < 9; i++) sum += c[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The regularised lower incomplete gamma function P(k, x) (series / continued fraction). */
export function regularizedLowerGamma(k: number, x: number): number {
  if (x <= 0) return 0;
  const lnPrefix = -x + k * Math.log(x) - lnGamma(k);
  if (x < k + 1) {
    let term = 1 / k;
    let sum = term;
    for (let n = 1; n < 500; n++) {
      term *= x / (k + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return Math.min(1, sum * Math.exp(lnPrefix));
  }
  // Lentz's continued fraction for Q(k, x).
  const tiny = 1e-300;
  let b = x + 1 - k;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - k);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.max(0, 1 - Math.exp(lnPrefix) * h);
}

/** The median of Gamma(shape, scale), by bisection on P(shape, x) = 1/2. */
export function gammaMedian(shape: number, scale: number): number {
  if (!(shape > 0) || !(scale > 0)) throw new RangeError("shape and scale must be positive");
  let lo = 0;
  let hi = shape + 10 * Math.sqrt(shape) + 10;
  for (let i = 0; i < 100 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (regularizedLowerGamma(shape, mid) < 0.5) lo = mid;
    else hi = mid;
  }
  return ((lo + hi) / 2) * scale;
}
