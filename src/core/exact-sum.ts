/**
 * A sum of doubles without rounding error until it is read: Shewchuk's partials (the algorithm of
 * Python's `math.fsum`). The exact sum is held as a few non-overlapping doubles, so the value read
 * is the exact sum rounded once, whatever order the terms came in. Streaming code that adds terms
 * as they arrive (in an order that depends on threads or partitions) gets the same bits as a
 * batch over a sorted list.
 */
export class ExactSum {
  private partials: number[] = [];

  add(x: number): void {
    if (!Number.isFinite(x)) throw new RangeError(`ExactSum adds finite numbers, got ${x}`);
    const partials = this.partials;
    let i = 0;
    for (let j = 0; j < partials.length; j++) {
      let y = partials[j];
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) partials[i++] = lo;
      x = hi;
    }
    partials.length = i;
    partials.push(x);
  }

  /** The exact sum, correctly rounded to a double (ties to even, as `math.fsum`). */
  get value(): number {
    const p = this.partials;
    let n = p.length - 1;
    if (n < 0) return 0;
    let hi = p[n];
    let lo = 0;
    while (n > 0) {
      const x = hi;
      const y = p[--n];
      hi = x + y;
      lo = y - (hi - x);
      if (lo !== 0) break;
    }
    // Half-way case: the partials below decide which way to round.
    if (n > 0 && ((lo < 0 && p[n - 1] < 0) || (lo > 0 && p[n - 1] > 0))) {
      const y = lo * 2;
      const x = hi + y;
      if (y === x - hi) hi = x;
    }
    return hi;
  }
}
