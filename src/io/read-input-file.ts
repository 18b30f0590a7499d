/**
 * Bounded reads of files the user names (`--input`, `--scenario`, `--calibration`, …). A path
 * may be `/dev/zero`, a FIFO or a huge file: each is refused from `stat` alone, before anything
 * is opened or read, so a bad path costs one line and no memory.
 *
 * Limits per input kind (`INPUT_LIMITS`): a key, scenario or config is a few KB in practice, so 4
 * MB; a table such as the GAEN calibration CSV (270 KB) 64 MB; files read whole as lines
 * (simulated runs, published-key JSONL) 256 MB, half of V8's longest string; streamed JSONL and
 * CSV have no total cap but each line is at most 1 MB. Diagnosis-key files keep their own
 * `--max-mb` limit (`readKeyFile`).
 */
import {
  closeSync,
  constants,
  createReadStream,
  fstatSync,
  openSync,
  readSync,
  type Stats,
  statSync,
} from "node:fs";
import { ConfigError } from "../core/errors.js";
import { formatBytes } from "../exposure/key-file/key-file-zip.js";

const MIB = 1024 * 1024;

/** Default limits per input kind; see the module comment for why. */
export const INPUT_LIMITS = {
  documentBytes: 4 * MIB,
  tableBytes: 64 * MIB,
  wholeLinesBytes: 256 * MIB,
  lineBytes: 1 * MIB,
} as const;

export interface InputFileOptions {
  /** How the message names the file: "--input", "scenario file", "the calibration table". */
  readonly what: string;
  /** Largest file accepted; default `INPUT_LIMITS.documentBytes`. */
  readonly maxBytes?: number;
  /** The `ConfigError` code; default "E_INPUT". */
  readonly code?: string;
  /** The whole message when the file does not exist, for call sites with a better hint. */
  readonly missing?: string;
}

export interface InputLinesOptions {
  readonly what: string;
  /** Longest line accepted, in bytes without its line break; default `INPUT_LIMITS.lineBytes`. */
  readonly maxLineBytes?: number;
  readonly code?: string;
  readonly missing?: string;
}

function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return "it is a folder";
  if (stats.isFIFO()) return "it is a FIFO";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "it is a device";
  if (stats.isSocket()) return "it is a socket";
  return "not a regular file";
}

function readFailure(path: string, error: unknown, options: InputFileOptions): ConfigError {
  const code = options.code ?? "E_INPUT";
  const errno = (error as NodeJS.ErrnoException).code;
  if ((errno === "ENOENT" || errno === "ENOTDIR") && options.missing !== undefined)
    return new ConfigError(options.missing, code);
  const reason =
    errno === "ENOENT" || errno === "ENOTDIR"
      ? "no such file"
      : errno === "EACCES" || errno === "EPERM"
        ? "permission denied"
        : (errno ?? (error as Error).message);
  return new ConfigError(`cannot read ${options.what} ${path}: ${reason}`, code);
}

/**
 * Checks, without opening it, that `path` is a regular file of at most `maxBytes` (when given);
 * returns its size. Opening a FIFO would block until a writer comes, hence stat first.
 */
export function checkInputFile(path: string, options: InputFileOptions): number {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (error) {
    throw readFailure(path, error, options);
  }
  return checkStats(path, stats, options);
}

function checkStats(path: string, stats: Stats, options: InputFileOptions): number {
  const code = options.code ?? "E_INPUT";
  if (!stats.isFile())
    throw new ConfigError(`${options.what} ${path} is not a file (${fileKind(stats)})`, code);
  const maxBytes = options.maxBytes ?? INPUT_LIMITS.documentBytes;
  if (stats.size > maxBytes)
    throw new ConfigError(
      `${options.what} ${path} is ${formatBytes(stats.size)}, over the ${formatBytes(maxBytes)} limit`,
      code,
    );
  return stats.size;
}

/** Reads a regular file of at most `maxBytes` whole; every failure is one-line `ConfigError`. */
export function readInputBytes(path: string, options: InputFileOptions): Uint8Array {
  checkInputFile(path, options);
  let fd: number;
  try {
    // O_NONBLOCK: should the path become a FIFO after the stat, opening it still returns.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw readFailure(path, error, options);
  }
  try {
    const size = checkStats(path, fstatSync(fd), options);
    const bytes = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const read = readSync(fd, bytes, filled, size - filled, filled);
      if (read === 0) break; // shrank while we read: keep what is there
      filled += read;
    }
    return bytes.subarray(0, filled);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw readFailure(path, error, options);
  } finally {
    closeSync(fd);
  }
}

/** `readInputBytes` decoded as UTF-8. */
export function readInputFile(path: string, options: InputFileOptions): string {
  return new TextDecoder().decode(readInputBytes(path, options));
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * The lines of a streamed text file, without their "\n" or "\r\n", read chunk by chunk; the file
 * has no size limit but a line longer than `maxLineBytes` is a `ConfigError` naming the file and
 * line, raised as soon as that many bytes have gathered (readline would keep them all).
 */
export async function* readInputLines(
  path: string,
  options: InputLinesOptions,
): AsyncGenerator<string, void, undefined> {
  checkInputFile(path, { ...options, maxBytes: Number.POSITIVE_INFINITY });
  const maxLineBytes = options.maxLineBytes ?? INPUT_LIMITS.lineBytes;
  const decoder = new TextDecoder();
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  let lineNumber = 1;
  const tooLong = () =>
    new ConfigError(
      `${options.what} ${path} line ${lineNumber} is longer than ${formatBytes(maxLineBytes)}: is it really a line-per-record file?`,
      options.code ?? "E_INPUT",
    );
  const finishLine = (tail: Buffer): string => {
    let bytes = pending.length === 0 ? tail : Buffer.concat([...pending, tail]);
    pending.length = 0;
    pendingBytes = 0;
    if (bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN)
      bytes = bytes.subarray(0, -1);
    if (bytes.length > maxLineBytes) throw tooLong();
    return decoder.decode(bytes);
  };

  const stream = createReadStream(path);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      let end = chunk.indexOf(NEWLINE, start);
      while (end !== -1) {
        yield finishLine(chunk.subarray(start, end));
        lineNumber++;
        start = end + 1;
        end = chunk.indexOf(NEWLINE, start);
      }
      if (start < chunk.length) {
        pending.push(chunk.subarray(start));
        pendingBytes += chunk.length - start;
        // One byte of slack for a "\r" whose "\n" is in the next chunk.
        if (pendingBytes > maxLineBytes + 1) throw tooLong();
      }
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw readFailure(path, error, options);
  } finally {
    stream.destroy();
  }
  if (pendingBytes > 0) yield finishLine(Buffer.alloc(0));
}
