/**
 * Typed columns for the streaming pipeline: the one helper they grow with, and the one counting
 * sort they are ordered by.
 */

export type NumberColumn =
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float64Array
  | Uint8Array;

/**
 * `column` with room for `size` entries, the contents kept: itself when it has room, else a
 * copy 1.5 times as long (or more, until `size` fits) — a quarter of a column left unused on
 * average, rather than half when doubling.
 */
export function withCapacity<T extends NumberColumn>(column: T, size: number): T {
  if (size <= column.length) return column;
  let capacity = Math.max(16, Math.ceil(column.length * 1.5));
  while (capacity < size) capacity = Math.ceil(capacity * 1.5);
  const out = new (column.constructor as new (n: number) => T)(capacity);
  out.set(column as never);
  return out;
}

/**
 * `items` stably sorted by `keys[item * stride + offset]`, whole numbers in 0 .. buckets - 1: a
 * counting sort (two passes, no comparisons), the one the streaming pipeline's large sorts use.
 */
export function stableCountingSort<T extends Int32Array | Uint32Array>(
  items: T,
  keys: Int32Array,
  buckets: number,
  stride = 1,
  offset = 0,
): T {
  const starts = new Uint32Array(buckets + 1);
  for (let k = 0; k < items.length; k++) starts[keys[items[k] * stride + offset] + 1]++;
  for (let b = 1; b <= buckets; b++) starts[b] += starts[b - 1];
  const out = new (items.constructor as new (n: number) => T)(items.length);
  for (let k = 0; k < items.length; k++) {
    const item = items[k];
    out[starts[keys[item * stride + offset]]++] = item;
  }
  return out;
}
