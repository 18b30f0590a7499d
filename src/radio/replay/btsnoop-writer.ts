/**
 * Writes btsnoop captures (the format `btsnoop.ts` reads): H4 (1002), un-encapsulated HCI
 * (1001) or Linux monitor (2001, as `btmon -w`). Used to build test captures from
 * spec-correct packets and synthetic captures for benchmarks. Writes are buffered and
 * synchronous, so a reader following the file sees every record once `flush()` returns.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { ConfigError } from "../../core/errors.js";
import {
  BTSNOOP_MAGIC,
  BTSNOOP_VERSION,
  DATALINK_H4,
  DATALINK_HCI,
  DATALINK_MONITOR,
  H4,
  MONITOR,
  RECORD_HEADER_BYTES,
  unixUsToBtsnoop,
} from "./btsnoop.js";

export type WritableDatalink = typeof DATALINK_HCI | typeof DATALINK_H4 | typeof DATALINK_MONITOR;

const BUFFER_BYTES = 1 << 16;

/** The 16-byte file header. */
export function btsnoopHeader(datalink: number): Uint8Array {
  const out = new Uint8Array(16);
  out.set(BTSNOOP_MAGIC);
  const view = new DataView(out.buffer);
  view.setUint32(8, BTSNOOP_VERSION);
  view.setUint32(12, datalink);
  return out;
}

/** One record: header (lengths, flags, drops, timestamp) and data. */
export function btsnoopRecord(
  atMs: number,
  flags: number,
  data: Uint8Array,
  options: { drops?: number; originalLength?: number } = {},
): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_BYTES + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, options.originalLength ?? data.length);
  view.setUint32(4, data.length);
  view.setUint32(8, flags >>> 0);
  view.setUint32(12, options.drops ?? 0);
  view.setBigInt64(16, unixUsToBtsnoop(atMs * 1000));
  out.set(data, RECORD_HEADER_BYTES);
  return out;
}

/** Opens (creating or replacing) a capture file; a bad path is a ConfigError naming it. */
function openCapture(path: string): number {
  try {
    return openSync(path, "w", 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR")
      throw new ConfigError(
        `cannot create ${path}: folder ${dirname(path)} does not exist`,
        "E_PATH",
      );
    if (code === "EACCES" || code === "EPERM" || code === "EROFS")
      throw new ConfigError(
        `cannot create ${path}: no permission to write in ${dirname(path)}`,
        "E_PATH",
      );
    if (code === "EISDIR") throw new ConfigError(`cannot create ${path}: it is a folder`, "E_PATH");
    throw error;
  }
}

export class BtsnoopWriter {
  readonly datalink: WritableDatalink;
  private fd: number | undefined;
  private buffer = new Uint8Array(BUFFER_BYTES);
  private used = 0;
  /** Records written. */
  records = 0;

  /** Creates (or replaces) `path` and writes the header. */
  constructor(path: string, datalink: WritableDatalink = DATALINK_MONITOR) {
    if (![DATALINK_HCI, DATALINK_H4, DATALINK_MONITOR].includes(datalink))
      throw new ConfigError(`cannot write btsnoop datalink ${datalink}`, "E_BTSNOOP");
    this.datalink = datalink;
    this.fd = openCapture(path);
    this.append(btsnoopHeader(datalink));
  }

  /** An HCI command packet (opcode, length, parameters: no H4 indicator) sent at `atMs`. */
  command(atMs: number, packet: Uint8Array, index = 0): void {
    this.packet(atMs, "command", packet, index);
  }

  /** An HCI event packet (event code, length, parameters) received at `atMs`. */
  event(atMs: number, packet: Uint8Array, index = 0): void {
    this.packet(atMs, "event", packet, index);
  }

  /** Monitor captures: a "New Index" record (controller type 0 primary, bus 0 virtual). */
  newIndex(atMs: number, address: Uint8Array, name = "hci0", index = 0): void {
    if (this.datalink !== DATALINK_MONITOR) return;
    const data = new Uint8Array(16);
    for (let i = 0; i < 6; i++) data[2 + i] = address[5 - i];
    data.set(new TextEncoder().encode(name.slice(0, 8)), 8);
    this.record(atMs, (index << 16) | MONITOR.newIndex, data);
  }

  /** A raw record with explicit flags. */
  record(atMs: number, flags: number, data: Uint8Array): void {
    this.append(btsnoopRecord(atMs, flags, data));
    this.records++;
  }

  private packet(atMs: number, kind: "command" | "event", packet: Uint8Array, index: number): void {
    if (this.datalink === DATALINK_MONITOR) {
      const opcode = kind === "event" ? MONITOR.eventPacket : MONITOR.commandPacket;
      this.record(atMs, (index << 16) | opcode, packet);
    } else if (this.datalink === DATALINK_H4) {
      const data = new Uint8Array(1 + packet.length);
      data[0] = kind === "event" ? H4.event : H4.command;
      data.set(packet, 1);
      // Direction bit 0: 1 = received (controller to host); bit 1: command/event.
      this.record(atMs, kind === "event" ? 3 : 2, data);
    } else {
      this.record(atMs, kind === "event" ? 3 : 2, packet);
    }
  }

  private append(bytes: Uint8Array): void {
    if (this.fd === undefined) throw new ConfigError("the capture is closed", "E_BTSNOOP");
    if (this.used + bytes.length > this.buffer.length) this.flush();
    if (bytes.length > this.buffer.length) {
      writeAll(this.fd, bytes);
      return;
    }
    this.buffer.set(bytes, this.used);
    this.used += bytes.length;
  }

  /** Writes what is buffered to the file. */
  flush(): void {
    if (this.fd === undefined || this.used === 0) return;
    writeAll(this.fd, this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}
