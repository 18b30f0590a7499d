/**
 * btsnoop capture files, read as a stream (bounded memory, whatever the file size).
 *
 * File: 16-byte header, "btsnoop\0", version (uint32) 1, datalink (uint32); then records of
 * original length, included length, flags, cumulative drops (uint32 each) and a timestamp
 * (int64, microseconds since midnight 1 January 0 AD, nominal Gregorian), followed by the
 * included bytes. Every integer is big-endian.
 *
 * Datalinks read here:
 * - 1002 HCI UART (H4), Android's "Bluetooth HCI snoop log": each record starts with the H4
 *   packet indicator (0x01 command, 0x02 ACL, 0x03 SCO, 0x04 event).
 * - 1001 un-encapsulated HCI: no indicator; flags bit 1 = command/event, bit 0 = received.
 * - 2001 Linux HCI monitor, what `btmon -w` writes: flags = controller index << 16 | monitor
 *   opcode (BlueZ src/shared/btsnoop.c), opcode 2 = command, 3 = event; no indicator.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { CodecError } from "../../core/errors.js";
import { checkInputFile } from "../../io/read-input-file.js";

export const BTSNOOP_MAGIC = Uint8Array.from([0x62, 0x74, 0x73, 0x6e, 0x6f, 0x6f, 0x70, 0x00]);
export const BTSNOOP_VERSION = 1;
export const HEADER_BYTES = 16;
export const RECORD_HEADER_BYTES = 24;

export const DATALINK_HCI = 1001;
export const DATALINK_H4 = 1002;
export const DATALINK_MONITOR = 2001;
export const SUPPORTED_DATALINKS = [DATALINK_HCI, DATALINK_H4, DATALINK_MONITOR] as const;

/** BlueZ monitor opcodes (src/shared/btsnoop.h). */
export const MONITOR = {
  newIndex: 0,
  deleteIndex: 1,
  commandPacket: 2,
  eventPacket: 3,
  aclTxPacket: 4,
  aclRxPacket: 5,
  openIndex: 8,
  indexInfo: 10,
  systemNote: 12,
} as const;

/** H4 packet indicators. */
export const H4 = { command: 0x01, acl: 0x02, sco: 0x03, event: 0x04 } as const;

/** Largest record accepted: an HCI packet is at most 64 KiB; anything bigger is corruption. */
export const MAX_RECORD_BYTES = 70_000;

/**
 * The btsnoop timestamp of 2000-01-01T00:00:00Z (the format's documented equivalent epoch), split
 * into 32-bit halves so that conversions stay exact in doubles.
 */
const EPOCH_2000 = 0x00e03ab44a676000n;
const EPOCH_2000_HI = Number(EPOCH_2000 >> 32n);
const EPOCH_2000_LO = Number(EPOCH_2000 & 0xffffffffn);
const UNIX_2000_US = 946_684_800_000_000;

/** A btsnoop timestamp (as its two 32-bit halves) as microseconds since the Unix epoch. */
export function btsnoopToUnixUs(hi: number, lo: number): number {
  return (hi - EPOCH_2000_HI) * 4294967296 + (lo - EPOCH_2000_LO) + UNIX_2000_US;
}

/** Microseconds since the Unix epoch as a btsnoop timestamp. */
export function unixUsToBtsnoop(unixUs: number): bigint {
  return BigInt(Math.round(unixUs)) - BigInt(UNIX_2000_US) + EPOCH_2000;
}

/** One record. `data` is a view valid only during the callback. */
export interface BtsnoopRecord {
  /** File offset of the record header. */
  readonly offset: number;
  readonly originalLength: number;
  readonly flags: number;
  readonly drops: number;
  /** Microseconds since the Unix epoch. */
  readonly unixUs: number;
  readonly data: Uint8Array;
}

/**
 * Incremental decoder: `push` bytes as they come, records are handed to `onRecord`; `finish`
 * at the end of the file. Malformed input is a `CodecError` naming the file offset.
 */
export class BtsnoopDecoder {
  datalink: number | undefined;
  /** Bytes consumed so far (the offset of the next record once the header is read). */
  offset = 0;
  /** Records decoded. */
  records = 0;
  private pending: Uint8Array | undefined;

  constructor(private readonly onRecord: (record: BtsnoopRecord) => void) {}

  /** True when bytes of an incomplete record (or header) are waiting for more input. */
  get hasPartial(): boolean {
    return this.pending !== undefined && this.pending.length > 0;
  }

  push(chunk: Uint8Array): void {
    let bytes = chunk;
    if (this.pending) {
      bytes = new Uint8Array(this.pending.length + chunk.length);
      bytes.set(this.pending);
      bytes.set(chunk, this.pending.length);
      this.pending = undefined;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    if (this.datalink === undefined) {
      if (bytes.length < HEADER_BYTES) {
        this.checkMagic(bytes);
        this.pending = bytes.slice();
        return;
      }
      this.checkMagic(bytes);
      const version = view.getUint32(8);
      if (version !== BTSNOOP_VERSION)
        throw new CodecError(
          `btsnoop version ${version} is not supported (only 1)`,
          8,
          "E_BTSNOOP",
        );
      const datalink = view.getUint32(12);
      if (!(SUPPORTED_DATALINKS as readonly number[]).includes(datalink))
        throw new CodecError(
          `btsnoop datalink ${datalink} is not supported (use 1001 HCI, 1002 H4/UART or 2001 Linux monitor)`,
          12,
          "E_BTSNOOP",
        );
      this.datalink = datalink;
      at = HEADER_BYTES;
      this.offset = HEADER_BYTES;
    }
    const onRecord = this.onRecord;
    while (bytes.length - at >= RECORD_HEADER_BYTES) {
      const originalLength = view.getUint32(at);
      const included = view.getUint32(at + 4);
      if (included > originalLength)
        throw new CodecError(
          `btsnoop record ${this.records + 1}: included length ${included} exceeds the original length ${originalLength}`,
          this.offset,
          "E_BTSNOOP",
        );
      if (included > MAX_RECORD_BYTES)
        throw new CodecError(
          `btsnoop record ${this.records + 1}: implausible length ${included} (a corrupt file?)`,
          this.offset,
          "E_BTSNOOP",
        );
      const end = at + RECORD_HEADER_BYTES + included;
      if (end > bytes.length) break;
      onRecord({
        offset: this.offset,
        originalLength,
        flags: view.getUint32(at + 8),
        drops: view.getUint32(at + 12),
        unixUs: btsnoopToUnixUs(view.getUint32(at + 16), view.getUint32(at + 20)),
        data: bytes.subarray(at + RECORD_HEADER_BYTES, end),
      });
      this.records++;
      this.offset += end - at;
      at = end;
    }
    if (at < bytes.length) this.pending = bytes.slice(at);
  }

  /** The end of the file: throws if it cut a record (or the header) short. */
  finish(): void {
    if (this.datalink === undefined)
      throw new CodecError(
        `not a btsnoop file: ${this.pending?.length ?? 0} bytes, shorter than the 16-byte header`,
        0,
        "E_BTSNOOP",
      );
    if (this.pending && this.pending.length > 0)
      throw new CodecError(
        `btsnoop file truncated: record ${this.records + 1} is cut short (${this.pending.length} bytes of it present)`,
        this.offset,
        "E_BTSNOOP",
      );
  }

  private checkMagic(bytes: Uint8Array): void {
    const n = Math.min(bytes.length, BTSNOOP_MAGIC.length);
    for (let i = 0; i < n; i++) {
      if (bytes[i] !== BTSNOOP_MAGIC[i])
        throw new CodecError(
          'not a btsnoop file: it does not start with "btsnoop\\0"',
          i,
          "E_BTSNOOP",
        );
    }
  }
}

/** An HCI packet out of a record: its kind, controller index and bytes (no H4 indicator). */
export interface HciPacket {
  readonly kind: "command" | "event" | "acl" | "sco" | "other";
  readonly index: number;
  readonly packet: Uint8Array;
  /** File offset of the packet's first byte. */
  readonly offset: number;
}

/** The HCI packet a record of `datalink` carries. */
export function hciPacketOf(datalink: number, record: BtsnoopRecord): HciPacket {
  const data = record.data;
  const start = record.offset + RECORD_HEADER_BYTES;
  if (datalink === DATALINK_MONITOR) {
    const opcode = record.flags & 0xffff;
    const index = record.flags >>> 16;
    const kind =
      opcode === MONITOR.eventPacket
        ? "event"
        : opcode === MONITOR.commandPacket
          ? "command"
          : opcode === MONITOR.aclRxPacket || opcode === MONITOR.aclTxPacket
            ? "acl"
            : "other";
    return { kind, index, packet: data, offset: start };
  }
  if (datalink === DATALINK_H4) {
    if (data.length === 0) return { kind: "other", index: 0, packet: data, offset: start };
    const indicator = data[0];
    const kind =
      indicator === H4.event
        ? "event"
        : indicator === H4.command
          ? "command"
          : indicator === H4.acl
            ? "acl"
            : indicator === H4.sco
              ? "sco"
              : "other";
    return { kind, index: 0, packet: data.subarray(1), offset: start + 1 };
  }
  // 1001: bit 1 command/event, bit 0 received.
  const commandOrEvent = (record.flags & 2) !== 0;
  const received = (record.flags & 1) !== 0;
  const kind = commandOrEvent ? (received ? "event" : "command") : "acl";
  return { kind, index: 0, packet: data, offset: start };
}

/** Chunk size for file reads. */
export const READ_CHUNK_BYTES = 1 << 20;

/**
 * Reads a whole capture synchronously, chunk by chunk (memory stays at one chunk plus one
 * record), handing each record to `onRecord` with the datalink. Throws `CodecError` for a
 * malformed or truncated file.
 */
export function readBtsnoopFileSync(
  path: string,
  onRecord: (record: BtsnoopRecord, datalink: number) => void,
): { records: number; bytes: number } {
  const decoder: BtsnoopDecoder = new BtsnoopDecoder((record) =>
    onRecord(record, decoder.datalink!),
  );
  // A FIFO would block the open and a device never end: a regular file only, any size.
  checkInputFile(path, { what: "capture", maxBytes: Number.POSITIVE_INFINITY });
  const fd = openSync(path, "r");
  try {
    const buffer = new Uint8Array(READ_CHUNK_BYTES);
    let position = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, position);
      if (n === 0) break;
      position += n;
      decoder.push(buffer.subarray(0, n));
    }
    decoder.finish();
    return { records: decoder.records, bytes: position };
  } finally {
    closeSync(fd);
  }
}
