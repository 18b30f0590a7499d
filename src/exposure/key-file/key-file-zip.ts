/**
 * The zip container of a diagnosis-key file (`export.bin` + `export.sig`), read defensively:
 * the central directory is checked before anything is inflated, so an entry that declares a
 * huge size (a zip bomb) is refused without allocating it, and inflation stops as soon as an
 * entry grows past its declared size. Format: PKWARE APPNOTE.TXT 6.3.10 §4.3
 * (https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT). Inflate and zip: fflate.
 */
import { crc32 } from "node:zlib";
import { Inflate, zipSync } from "fflate";
import { KeyFileError } from "../../core/errors.js";

/** Default limit on a key file's size, and on the declared uncompressed size of its entries. */
export const DEFAULT_MAX_KEY_FILE_BYTES = 64 * 1024 * 1024;
export const EXPORT_BIN_NAME = "export.bin";
export const EXPORT_SIG_NAME = "export.sig";

/** The two members of a key file; `sig` is `undefined` when the file is unsigned. */
export interface KeyFileParts {
  bin: Uint8Array;
  sig: Uint8Array | undefined;
}

// APPNOTE §4.3.7, §4.3.12, §4.3.16: record signatures and fixed lengths.
const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY_SIGNATURE = 0x06054b50;
const LOCAL_HEADER_BYTES = 30;
const CENTRAL_HEADER_BYTES = 46;
const END_OF_CENTRAL_DIRECTORY_BYTES = 22;
const MAX_ZIP_COMMENT_BYTES = 0xffff;
const ZIP64_MARKER = 0xffffffff;
const METHOD_STORED = 0;
const METHOD_DEFLATED = 8;
const FLAG_ENCRYPTED = 0x0001;
/** Compressed bytes fed to the inflater at a time: bounds its output per step (deflate peaks at ~1032:1). */
const INFLATE_STEP_BYTES = 16 * 1024;
/** Fixed entry time, so the same parts always zip to the same bytes (Google's files use 1980 too). */
const ZIP_ENTRY_TIME = new Date(1980, 0, 1);

interface CentralEntry {
  name: string;
  flags: number;
  method: number;
  crc: number;
  compressedBytes: number;
  uncompressedBytes: number;
  localHeaderOffset: number;
}

/** Formats a byte count for messages: "64 MB", "3.2 GB", "512 bytes". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

function corrupt(source: string, detail: string, code = "E_KEY_FILE_ZIP"): never {
  throw new KeyFileError(`${source} is not a readable zip (${detail})`, code);
}

function readCentralDirectory(view: DataView, source: string): CentralEntry[] {
  const length = view.byteLength;
  const lowest = Math.max(0, length - END_OF_CENTRAL_DIRECTORY_BYTES - MAX_ZIP_COMMENT_BYTES);
  let end = -1;
  for (let at = length - END_OF_CENTRAL_DIRECTORY_BYTES; at >= lowest; at--) {
    if (view.getUint32(at, true) === END_OF_CENTRAL_DIRECTORY_SIGNATURE) {
      end = at;
      break;
    }
  }
  if (end < 0) corrupt(source, "no end-of-central-directory record: truncated, or not a zip");
  const count = view.getUint16(end + 10, true);
  const directoryBytes = view.getUint32(end + 12, true);
  const directoryOffset = view.getUint32(end + 16, true);
  if (count === 0xffff || directoryOffset === ZIP64_MARKER || directoryBytes === ZIP64_MARKER) {
    corrupt(source, "zip64 archives are not supported; key files are small", "E_KEY_FILE_ZIP64");
  }
  const directoryEnd = directoryOffset + directoryBytes;
  if (directoryEnd > end) corrupt(source, "the central directory lies outside the file: truncated");
  const entries: CentralEntry[] = [];
  const decoder = new TextDecoder();
  let at = directoryOffset;
  for (let i = 0; i < count; i++) {
    if (
      at + CENTRAL_HEADER_BYTES > directoryEnd ||
      view.getUint32(at, true) !== CENTRAL_HEADER_SIGNATURE
    ) {
      corrupt(source, `central directory entry ${i} is damaged`);
    }
    const nameBytes = view.getUint16(at + 28, true);
    const next =
      at +
      CENTRAL_HEADER_BYTES +
      nameBytes +
      view.getUint16(at + 30, true) +
      view.getUint16(at + 32, true);
    if (next > directoryEnd) corrupt(source, `central directory entry ${i} is damaged`);
    const nameStart = view.byteOffset + at + CENTRAL_HEADER_BYTES;
    entries.push({
      name: decoder.decode(new Uint8Array(view.buffer, nameStart, nameBytes)),
      flags: view.getUint16(at + 8, true),
      method: view.getUint16(at + 10, true),
      crc: view.getUint32(at + 16, true),
      compressedBytes: view.getUint32(at + 20, true),
      uncompressedBytes: view.getUint32(at + 24, true),
      localHeaderOffset: view.getUint32(at + 42, true),
    });
    at = next;
  }
  return entries;
}

function checkDeclaredSizes(entries: CentralEntry[], maxBytes: number, source: string): void {
  let total = 0;
  for (const entry of entries) {
    if (entry.uncompressedBytes === ZIP64_MARKER || entry.compressedBytes === ZIP64_MARKER) {
      corrupt(source, `entry ${entry.name} needs zip64; key files are small`, "E_KEY_FILE_ZIP64");
    }
    if (entry.uncompressedBytes > maxBytes) {
      throw new KeyFileError(
        `${source}: entry ${entry.name} declares ${formatBytes(entry.uncompressedBytes)} uncompressed, over the ${formatBytes(maxBytes)} limit (a zip bomb?)`,
        "E_KEY_FILE_TOO_LARGE",
      );
    }
    total += entry.uncompressedBytes;
  }
  if (total > maxBytes) {
    throw new KeyFileError(
      `${source}: its entries declare ${formatBytes(total)} uncompressed in total, over the ${formatBytes(maxBytes)} limit (a zip bomb?)`,
      "E_KEY_FILE_TOO_LARGE",
    );
  }
}

function inflateBounded(compressed: Uint8Array, expectedBytes: number, what: string): Uint8Array {
  const out = new Uint8Array(expectedBytes);
  let written = 0;
  let finished = false;
  const inflater = new Inflate((chunk, final) => {
    if (written + chunk.length > expectedBytes) {
      throw new KeyFileError(
        `${what} inflates to more than the ${expectedBytes} bytes its zip entry declares (a zip bomb?)`,
        "E_KEY_FILE_TOO_LARGE",
      );
    }
    out.set(chunk, written);
    written += chunk.length;
    finished = final;
  });
  try {
    if (compressed.length === 0) inflater.push(compressed, true);
    for (let at = 0; at < compressed.length; at += INFLATE_STEP_BYTES) {
      const stepEnd = at + INFLATE_STEP_BYTES;
      inflater.push(compressed.subarray(at, stepEnd), stepEnd >= compressed.length);
    }
  } catch (error) {
    if (error instanceof KeyFileError) throw error;
    throw new KeyFileError(
      `${what} is corrupt: it does not inflate (${(error as Error).message})`,
      "E_KEY_FILE_ZIP",
      { cause: error },
    );
  }
  if (!finished || written !== expectedBytes) {
    throw new KeyFileError(
      `${what} is truncated: it inflates to ${written} bytes, its zip entry declares ${expectedBytes}`,
      "E_KEY_FILE_ZIP",
    );
  }
  return out;
}

function extract(zip: Uint8Array, view: DataView, entry: CentralEntry, source: string): Uint8Array {
  const what = `${source}: ${entry.name}`;
  if (entry.flags & FLAG_ENCRYPTED) corrupt(source, `${entry.name} is encrypted`);
  const local = entry.localHeaderOffset;
  if (
    local + LOCAL_HEADER_BYTES > zip.length ||
    view.getUint32(local, true) !== LOCAL_HEADER_SIGNATURE
  ) {
    corrupt(source, `the local header of ${entry.name} is missing: truncated or damaged`);
  }
  const dataStart =
    local +
    LOCAL_HEADER_BYTES +
    view.getUint16(local + 26, true) +
    view.getUint16(local + 28, true);
  const dataEnd = dataStart + entry.compressedBytes;
  if (dataEnd > zip.length)
    corrupt(source, `${entry.name} runs past the end of the file: truncated`);
  const compressed = zip.subarray(dataStart, dataEnd);
  let data: Uint8Array;
  if (entry.method === METHOD_STORED) {
    if (entry.compressedBytes !== entry.uncompressedBytes) {
      corrupt(source, `${entry.name} is stored but its two declared sizes differ`);
    }
    data = compressed.slice();
  } else if (entry.method === METHOD_DEFLATED) {
    data = inflateBounded(compressed, entry.uncompressedBytes, what);
  } else {
    corrupt(
      source,
      `${entry.name} uses compression method ${entry.method}; only stored and deflate are read`,
    );
  }
  if (crc32(data) >>> 0 !== entry.crc) {
    throw new KeyFileError(`${what} is corrupt: its CRC-32 does not match`, "E_KEY_FILE_ZIP");
  }
  return data;
}

/**
 * Reads export.bin and export.sig out of a key-file zip held in memory. Refuses, with a
 * `KeyFileError`: archives that are truncated or damaged, entries or a total declaring more than
 * `maxBytes` uncompressed, entries that inflate past their declared size or fail their CRC,
 * duplicate names, and archives without export.bin. Other entries are ignored.
 */
export function unzipKeyFile(
  zip: Uint8Array,
  options: { maxBytes?: number; source?: string } = {},
): KeyFileParts {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_KEY_FILE_BYTES;
  const source = options.source ?? "key file";
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const entries = readCentralDirectory(view, source);
  checkDeclaredSizes(entries, maxBytes, source);
  const byName = new Map<string, CentralEntry>();
  for (const entry of entries) {
    if (byName.has(entry.name)) corrupt(source, `it holds ${entry.name} twice`);
    byName.set(entry.name, entry);
  }
  const binEntry = byName.get(EXPORT_BIN_NAME);
  if (!binEntry) {
    const names =
      entries.length === 0 ? "it is empty" : `it holds ${entries.map((e) => e.name).join(", ")}`;
    throw new KeyFileError(
      `${source} has no ${EXPORT_BIN_NAME}, so it is not a diagnosis-key file (${names})`,
      "E_KEY_FILE_NO_BIN",
    );
  }
  const sigEntry = byName.get(EXPORT_SIG_NAME);
  return {
    bin: extract(zip, view, binEntry, source),
    sig: sigEntry && extract(zip, view, sigEntry, source),
  };
}

/** Zips export.bin and (when given) export.sig, deflated, with fixed entry times. */
export function zipKeyFile(parts: { bin: Uint8Array; sig?: Uint8Array }): Uint8Array {
  const files: Record<string, Uint8Array> = { [EXPORT_BIN_NAME]: parts.bin };
  if (parts.sig) files[EXPORT_SIG_NAME] = parts.sig;
  return zipSync(files, { level: 6, mtime: ZIP_ENTRY_TIME });
}
