/**
 * The per-advertisement term of the received power, as distributions the link layer can ask two
 * questions of: "how likely is one advertisement to reach the receiver's cut?" and "given that it
 * did, what power did it arrive with?". This lets the link layer draw the NUMBER of receptions of
 * a pair in a scan (geometric skipping over its advertising events) and then only the received
 * events' values, instead of drawing every event, with the same distribution as drawing each
 * event through `Propagation.rssiDbm`.
 *
 * Three kinds, matching `Propagation.rssiDbm`:
 * - `DRAW_STILL`, `DRAW_MOVING`: a pair with cached shadowing; the term is the Rician fading,
 *   one of the `FADING_TABLE_SIZE` equiprobable quantiles of the still or moving table. The
 *   tail probability and the conditional draw are exact for that discrete distribution.
 * - `DRAW_FAR`: a far pair whose shadowing is drawn afresh per advertisement; the term is
 *   σ·N(0, 1) + moving fading. Its tail is tabulated once (exact convolution of the normal with
 *   the fading quantiles, on a 0.02 dB lattice) and read by linear interpolation; the
 *   conditional draw inverts the same piecewise-linear tail, so it is consistent with it.
 */

/** No advertisement of the pair can be received (beyond the cull distance). */
export const DRAW_NONE = -1;
/** Cached shadowing, still link: still Rician fading. */
export const DRAW_STILL = 0;
/** Cached shadowing, moving link: moving Rician fading. */
export const DRAW_MOVING = 1;
/** Far pair: fresh shadowing per advertisement plus moving fading. */
export const DRAW_FAR = 2;

/** Lattice step of the far-pair tail table, dB. */
const STEP_DB = 0.02;
/** The tail table spans the fading's range widened by this many shadowing σ each side. */
const SPAN_SIGMAS = 8.5;

export class ReceptionTables {
  private readonly still: Float32Array;
  private readonly moving: Float32Array;
  private readonly sigmaDb: number;
  /** P(term ≥ x0 + i·STEP_DB) for the far kind. */
  private readonly tail: Float64Array;
  private readonly x0: number;
  /** The last cached-shadowing tail asked for, and where its cut falls in the table. */
  private lastKind = DRAW_NONE;
  private lastCutDb = Number.NaN;
  private lastLowerBound = 0;

  /** `still` and `moving` are sorted fading quantile tables (equal lengths), dB. */
  constructor(still: Float32Array, moving: Float32Array, shadowingSigmaDb: number) {
    this.still = still;
    this.moving = moving;
    this.sigmaDb = shadowingSigmaDb;
    if (shadowingSigmaDb > 0) {
      const built = farTail(moving, shadowingSigmaDb);
      this.tail = built.tail;
      this.x0 = built.x0;
    } else {
      this.tail = new Float64Array(0);
      this.x0 = 0;
    }
  }

  /** P(term ≥ cDb) for one advertisement of a pair of draw kind `kind`. */
  probabilityAtLeast(kind: number, cDb: number): number {
    if (kind === DRAW_FAR && this.sigmaDb > 0) {
      const tail = this.tail;
      const f = (cDb - this.x0) / STEP_DB;
      if (f <= 0) return tail[0];
      const last = tail.length - 1;
      if (f >= last) return 0;
      const i = f | 0;
      return tail[i] + (tail[i + 1] - tail[i]) * (f - i);
    }
    if (kind === DRAW_NONE) return 0;
    const table = kind === DRAW_STILL ? this.still : this.moving;
    const lb = lowerBound(table, cDb);
    this.lastKind = kind;
    this.lastCutDb = cDb;
    this.lastLowerBound = lb;
    return (table.length - lb) / table.length;
  }

  /**
   * The term of one advertisement given that it is at least `cDb`, from a uniform `v` in
   * [0, 1): a value ≥ `cDb` (call only when `probabilityAtLeast(kind, cDb) > 0`).
   */
  drawAtLeast(kind: number, cDb: number, v: number): number {
    if (kind === DRAW_FAR && this.sigmaDb > 0) {
      const tail = this.tail;
      // Invert the piecewise-linear tail at a target uniformly spread over (0, P(c)].
      const target = this.probabilityAtLeast(kind, cDb) * (1 - v);
      let lo = 0;
      let hi = tail.length - 1;
      if (target >= tail[0]) return Math.max(cDb, this.x0);
      if (target <= tail[hi]) return this.x0 + hi * STEP_DB;
      // tail[lo] > target >= tail[hi]
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (tail[mid] > target) lo = mid;
        else hi = mid;
      }
      const x = this.x0 + (lo + (tail[lo] - target) / (tail[lo] - tail[hi])) * STEP_DB;
      return Math.max(x, cDb);
    }
    const table = kind === DRAW_STILL ? this.still : this.moving;
    // The link layer asks for the tail first, then draws: reuse its table position.
    const lb =
      kind === this.lastKind && cDb === this.lastCutDb
        ? this.lastLowerBound
        : lowerBound(table, cDb);
    return table[lb + Math.floor(v * (table.length - lb))];
  }
}

/** First index `i` with `table[i] >= x` (table sorted ascending), or `table.length`. */
function lowerBound(table: Float32Array, x: number): number {
  let lo = 0;
  let hi = table.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (table[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const farTails = new Map<string, { tail: Float64Array; x0: number }>();

/**
 * P(σ·N + F ≥ x) on a lattice, F uniform over the quantiles `fading`: each quantile is put on
 * the lattice (an unbiased rounding of at most STEP_DB / 2) and the tail is the exact discrete
 * convolution of that histogram with the normal survival function.
 */
function farTail(fading: Float32Array, sigmaDb: number): { tail: Float64Array; x0: number } {
  const key = `${sigmaDb}:${fading[0]}:${fading[fading.length - 1]}:${fading.length}`;
  const cached = farTails.get(key);
  if (cached) return cached;
  const span = SPAN_SIGMAS * sigmaDb;
  const x0 = Math.floor((fading[0] - span) / STEP_DB) * STEP_DB;
  const bins = Math.ceil((fading[fading.length - 1] - fading[0]) / STEP_DB) + 2;
  const histogram = new Float64Array(bins);
  const f0 = Math.round(fading[0] / STEP_DB);
  for (let q = 0; q < fading.length; q++) {
    histogram[Math.round(fading[q] / STEP_DB) - f0] += 1 / fading.length;
  }
  // Offsets of the lattice point i from the histogram bin b: x_i - f_b = (i - b - shift)·STEP.
  const shift = f0 - Math.round(x0 / STEP_DB);
  const size = Math.ceil((2 * span + (fading[fading.length - 1] - fading[0])) / STEP_DB) + 4;
  const halfWidth = Math.ceil(span / STEP_DB);
  // Q(m·STEP/σ) for m in -halfWidth..halfWidth (beyond: 1 below, 0 above).
  const survival = new Float64Array(2 * halfWidth + 1);
  for (let m = -halfWidth; m <= halfWidth; m++) {
    survival[m + halfWidth] = 0.5 * erfc((m * STEP_DB) / sigmaDb / Math.SQRT2);
  }
  const tail = new Float64Array(size);
  for (let b = 0; b < bins; b++) {
    const w = histogram[b];
    if (w === 0) continue;
    const centre = b + shift;
    for (let i = 0; i < size; i++) {
      const m = i - centre;
      tail[i] += w * (m < -halfWidth ? 1 : m > halfWidth ? 0 : survival[m + halfWidth]);
    }
  }
  const built = { tail, x0 };
  farTails.set(key, built);
  return built;
}

/**
 * The complementary error function, with a fractional error below 1.2e-7 everywhere
 * (Numerical Recipes, 2nd ed., §6.2 `erfcc`, a Chebyshev fit).
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
