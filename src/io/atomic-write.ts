/**
 * Writes a file so that a reader or a crash never sees half of it: the data go to a
 * temporary file beside the target, are flushed to disk, then renamed over it (or linked,
 * when an existing file must not be replaced: link() fails atomically if the path exists).
 *
 * `prepareFileAtomic` splits this in two for commands that must change nothing when the output
 * cannot be written (`firmware schedule` adds keys to a key store): everything that can fail —
 * a missing or read-only folder, a full disk, a target that is a folder or already exists — fails
 * while preparing; `commit()` is then only the rename (or link).
 */
import {
  closeSync,
  fsyncSync,
  linkSync,
  openSync,
  renameSync,
  type Stats,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { ConfigError, ProxkitError, StoreError } from "../core/errors.js";

export interface AtomicWriteOptions {
  /** File mode of a new file (default 0644; key material 0600). */
  mode?: number;
  /** Replace an existing file (default true). */
  overwrite?: boolean;
  /** What the file is, for messages ("key store", "key file"). */
  what?: string;
  /** The error for bad paths (an existing file, a missing folder): a domain error, ConfigError by default. */
  inputError?: new (
    message: string,
    code: string,
  ) => ProxkitError;
}

/** A file written beside its target, waiting to be renamed into place. */
export interface PreparedFile {
  /** Moves the file into place; throws like `writeFileAtomic` if that fails. */
  commit(): void;
  /** Removes the temporary file; the target is untouched. */
  abort(): void;
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function writeFailure(path: string, error: unknown, options: AtomicWriteOptions): ProxkitError {
  if (error instanceof ProxkitError) return error;
  const what = options.what ?? "file";
  const InputError = options.inputError ?? ConfigError;
  const folder = dirname(path);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "ENOTDIR") {
    // /proc and the like exist but refuse new files with ENOENT.
    return statOrUndefined(folder)?.isDirectory()
      ? new InputError(`cannot create ${path}: folder ${folder} does not take new files`, "E_PATH")
      : new InputError(`cannot create ${path}: folder ${folder} does not exist`, "E_PATH");
  }
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
    return new InputError(`cannot create ${path}: no permission to write in ${folder}`, "E_PATH");
  }
  if (code === "EISDIR") return new InputError(`cannot create ${path}: it is a folder`, "E_PATH");
  if (code === "EEXIST" && options.overwrite === false)
    return new InputError(`${path} already exists; refusing to overwrite a ${what}`, "E_EXISTS");
  return new StoreError(`cannot write ${what} ${path}: ${(error as Error).message}`, "E_WRITE");
}

/**
 * Writes `data` to a temporary file beside `path`, flushed to disk, after checking that `path`
 * is not a folder (nor an existing file, unless `overwrite`). Nothing is at `path` until
 * `commit()`.
 */
export function prepareFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): PreparedFile {
  const what = options.what ?? "file";
  const InputError = options.inputError ?? ConfigError;
  const overwrite = options.overwrite ?? true;
  const existing = statOrUndefined(path);
  if (existing?.isDirectory())
    throw new InputError(`cannot create ${path}: it is a folder`, "E_PATH");
  // Renaming over /dev/zero or a FIFO would replace it (as root, even in /dev).
  if (existing && !existing.isFile())
    throw new InputError(`cannot replace ${path}: it is not a regular file`, "E_PATH");
  if (existing && !overwrite)
    throw new InputError(`${path} already exists; refusing to overwrite a ${what}`, "E_EXISTS");
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const removeTemp = () => {
    try {
      unlinkSync(temp);
    } catch {
      // already renamed, or never created
    }
  };
  let fd: number | undefined;
  try {
    fd = openSync(temp, "wx", options.mode ?? 0o644);
    writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    removeTemp();
    throw writeFailure(path, error, options);
  }
  return {
    commit() {
      try {
        if (overwrite) {
          renameSync(temp, path);
        } else {
          linkSync(temp, path);
          unlinkSync(temp);
        }
      } catch (error) {
        removeTemp();
        throw writeFailure(path, error, options);
      }
    },
    abort: removeTemp,
  };
}

export function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): void {
  prepareFileAtomic(path, data, options).commit();
}
