/**
 * Reads and writes diagnosis-key files on disk: a zip (export.bin + export.sig), a bare
 * export.bin, or a folder holding the two. Sizes are checked with fstat before anything is read,
 * so an oversized file costs nothing; the bytes are parsed by `unzipKeyFile`.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { KeyFileError } from "../core/errors.js";
import { mention, optionText } from "../core/option-text.js";
import { EXPORT_BIN_HEADER } from "../exposure/key-file/key-file.js";
import {
  DEFAULT_MAX_KEY_FILE_BYTES,
  EXPORT_BIN_NAME,
  EXPORT_SIG_NAME,
  formatBytes,
  type KeyFileParts,
  unzipKeyFile,
  zipKeyFile,
} from "../exposure/key-file/key-file-zip.js";
import { writeFileAtomic } from "./atomic-write.js";

/** How the key file was stored. */
export type KeyFileFormat = "zip" | "bin" | "folder";

export interface KeyFileContents extends KeyFileParts {
  format: KeyFileFormat;
}

export interface ReadKeyFileOptions {
  /** Largest file, and largest declared uncompressed content of a zip, accepted; default 64 MB. */
  maxBytes?: number;
}

// "PK\x03\x04" starts a zip with entries, "PK\x05\x06" an empty one (APPNOTE.TXT §4.3.7, §4.3.16).
const ZIP_MAGICS = [
  [0x50, 0x4b, 0x03, 0x04],
  [0x50, 0x4b, 0x05, 0x06],
];
const EXPORT_BIN_MAGIC = new TextEncoder().encode(EXPORT_BIN_HEADER.trimEnd());

function startsWith(bytes: Uint8Array, prefix: ArrayLike<number>): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

function readError(path: string, error: unknown): KeyFileError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "ENOTDIR") {
    return new KeyFileError(`key file ${path} does not exist`, "E_NOT_FOUND", { cause: error });
  }
  if (code === "EACCES" || code === "EPERM") {
    return new KeyFileError(`cannot read key file ${path}: permission denied`, "E_READ", {
      cause: error,
    });
  }
  return new KeyFileError(`cannot read key file ${path}: ${(error as Error).message}`, "E_READ", {
    cause: error,
  });
}

function tooLarge(path: string, sizeBytes: number, maxBytes: number): KeyFileError {
  return new KeyFileError(
    optionText`${path} is ${formatBytes(sizeBytes)}, over the ${formatBytes(maxBytes)} limit for key files (real ones are a few MB at most; raise the limit with ${mention("maxBytes")} if this one is genuine)`,
    "E_KEY_FILE_TOO_LARGE",
  );
}

/** Reads a regular file whole, refusing it from its fstat size alone when over `maxBytes`. */
function readBounded(path: string, maxBytes: number): Uint8Array {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO returns at once (then fstat refuses it) instead of waiting
    // for a writer; it changes nothing for a regular file.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw readError(path, error);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile())
      throw new KeyFileError(`${path} is not a file (a FIFO, device or folder)`, "E_READ");
    if (stats.size > maxBytes) throw tooLarge(path, stats.size, maxBytes);
    const bytes = new Uint8Array(stats.size);
    let filled = 0;
    while (filled < bytes.length) {
      const read = readSync(fd, bytes, filled, bytes.length - filled, filled);
      if (read === 0) break; // shrank while we read: parse what is there
      filled += read;
    }
    return bytes.subarray(0, filled);
  } catch (error) {
    if (error instanceof KeyFileError) throw error;
    throw readError(path, error);
  } finally {
    closeSync(fd);
  }
}

function readFolder(path: string, maxBytes: number): KeyFileContents {
  const binPath = join(path, EXPORT_BIN_NAME);
  const sigPath = join(path, EXPORT_SIG_NAME);
  let bin: Uint8Array;
  try {
    bin = readBounded(binPath, maxBytes);
  } catch (error) {
    if (error instanceof KeyFileError && error.code === "E_NOT_FOUND") {
      throw new KeyFileError(`folder ${path} has no ${EXPORT_BIN_NAME}`, "E_KEY_FILE_NO_BIN");
    }
    throw error;
  }
  let sig: Uint8Array | undefined;
  try {
    sig = readBounded(sigPath, maxBytes - bin.length);
  } catch (error) {
    if (!(error instanceof KeyFileError && error.code === "E_NOT_FOUND")) throw error;
  }
  return { bin, sig, format: "folder" };
}

/**
 * Reads a diagnosis-key file: a zip holding export.bin (and export.sig), a bare export.bin
 * (unsigned), or a folder holding them; the kind is told from the content, not the name. The
 * bytes are returned undecoded, as signatures cover them exactly. Throws a `KeyFileError` with a
 * clear message for a missing, oversized, truncated or foreign file.
 */
export function readKeyFile(path: string, options: ReadKeyFileOptions = {}): KeyFileContents {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_KEY_FILE_BYTES;
  let isFolder: boolean;
  try {
    isFolder = statSync(path).isDirectory();
  } catch (error) {
    throw readError(path, error);
  }
  if (isFolder) return readFolder(path, maxBytes);
  const bytes = readBounded(path, maxBytes);
  if (ZIP_MAGICS.some((magic) => startsWith(bytes, magic))) {
    return { ...unzipKeyFile(bytes, { maxBytes, source: path }), format: "zip" };
  }
  if (startsWith(bytes, EXPORT_BIN_MAGIC)) return { bin: bytes, sig: undefined, format: "bin" };
  throw new KeyFileError(
    `${path} is neither a key-file zip nor an export.bin (it does not start with "PK" or ${JSON.stringify(EXPORT_BIN_HEADER)})`,
    "E_KEY_FILE_FORMAT",
  );
}

/**
 * Writes a key-file zip. The zip goes to a temporary file beside `path` that is then renamed
 * over it, so a reader never sees half a file.
 */
export function writeKeyFileZip(path: string, parts: { bin: Uint8Array; sig?: Uint8Array }): void {
  writeFileAtomic(path, zipKeyFile(parts), { what: "key file", inputError: KeyFileError });
}
