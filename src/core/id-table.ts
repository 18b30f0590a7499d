/**
 * Interns fixed-length IDs (rolling IDs are 12 or 16 random bytes) as dense integer handles
 * 0, 1, 2, ...: an open-addressing hash table over typed arrays, with no object per ID, so
 * hot paths (ingest, matching) index typed arrays by handle instead of keying maps by string.
 */
export class IdTable {
  readonly idBytes: number;
  private slots: Int32Array;
  private mask: number;
  private ids: Uint8Array;
  private count = 0;

  constructor(idBytes: number, expectedIds = 1024) {
    if (idBytes < 4) throw new RangeError("IdTable: IDs must be at least 4 bytes");
    this.idBytes = idBytes;
    let capacity = 16;
    while (capacity < expectedIds * 2) capacity *= 2;
    this.slots = new Int32Array(capacity).fill(-1);
    this.mask = capacity - 1;
    this.ids = new Uint8Array(Math.max(16, expectedIds) * idBytes);
  }

  /** Number of distinct IDs interned. */
  get size(): number {
    return this.count;
  }

  /** Rolling IDs are uniformly random, so 32 bits of them hash well enough. */
  private hash(bytes: Uint8Array, offset: number): number {
    const h =
      (bytes[offset] |
        (bytes[offset + 1] << 8) |
        (bytes[offset + 2] << 16) |
        (bytes[offset + 3] << 24)) >>>
      0;
    return Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0;
  }

  private equalsAt(handle: number, bytes: Uint8Array, offset: number): boolean {
    const base = handle * this.idBytes;
    for (let i = 0; i < this.idBytes; i++)
      if (this.ids[base + i] !== bytes[offset + i]) return false;
    return true;
  }

  /** The handle of the ID at `bytes[offset..]`, or -1 when it was never interned. */
  find(bytes: Uint8Array, offset = 0): number {
    let slot = this.hash(bytes, offset) & this.mask;
    for (;;) {
      const handle = this.slots[slot];
      if (handle < 0) return -1;
      if (this.equalsAt(handle, bytes, offset)) return handle;
      slot = (slot + 1) & this.mask;
    }
  }

  /** The handle of the ID at `bytes[offset..]`, interning it if new. */
  intern(bytes: Uint8Array, offset = 0): number {
    let slot = this.hash(bytes, offset) & this.mask;
    for (;;) {
      const handle = this.slots[slot];
      if (handle < 0) break;
      if (this.equalsAt(handle, bytes, offset)) return handle;
      slot = (slot + 1) & this.mask;
    }
    const handle = this.count++;
    if (handle * this.idBytes + this.idBytes > this.ids.length) {
      const grown = new Uint8Array(this.ids.length * 2);
      grown.set(this.ids);
      this.ids = grown;
    }
    this.ids.set(bytes.subarray(offset, offset + this.idBytes), handle * this.idBytes);
    this.slots[slot] = handle;
    if (this.count * 2 > this.slots.length) this.rehash();
    return handle;
  }

  /** The ID bytes of `handle` (a view; copy it to keep it). */
  idOf(handle: number): Uint8Array {
    return this.ids.subarray(handle * this.idBytes, (handle + 1) * this.idBytes);
  }

  /** Approximate bytes held. */
  get byteLength(): number {
    return this.slots.byteLength + this.ids.byteLength;
  }

  private rehash(): void {
    const capacity = this.slots.length * 2;
    this.slots = new Int32Array(capacity).fill(-1);
    this.mask = capacity - 1;
    for (let handle = 0; handle < this.count; handle++) {
      let slot = this.hash(this.ids, handle * this.idBytes) & this.mask;
      while (this.slots[slot] >= 0) slot = (slot + 1) & this.mask;
      this.slots[slot] = handle;
    }
  }
}
