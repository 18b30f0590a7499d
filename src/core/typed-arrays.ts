/** Growable typed columns: the one helper the streaming pipeline's columns grow with. */

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
