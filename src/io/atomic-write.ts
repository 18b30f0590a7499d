/**
 * Writes a file so that a reader or a crash never sees half of it: the data go to a
 * temporary file beside the target, are flushed to disk, then renamed over it (or linked,
 * when an existing file must not be replaced: link() fails atomically if the path exists).
 */
import {
  closeSync,
  fsyncSync,
  linkSync,
  openSync,
  renameSync,
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

export function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): void {
  const what = options.what ?? "file";
  const InputError = options.inputError ?? ConfigError;
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temp, "wx", options.mode ?? 0o644);
    writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (options.overwrite ?? true) {
      renameSync(temp, path);
    } else {
      try {
        linkSync(temp, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST") {
          throw new InputError(
            `${path} already exists; refusing to overwrite a ${what}`,
            "E_EXISTS",
          );
        }
        throw error;
      }
      unlinkSync(temp);
    }
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // already renamed, or never created
    }
    if (error instanceof ProxkitError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new InputError(
        `cannot create ${path}: folder ${dirname(path)} does not exist`,
        "E_PATH",
      );
    }
    if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
      throw new InputError(
        `cannot create ${path}: no permission to write in ${dirname(path)}`,
        "E_PATH",
      );
    }
    if (code === "EISDIR") throw new InputError(`cannot create ${path}: it is a folder`, "E_PATH");
    throw new StoreError(`cannot write ${what} ${path}: ${(error as Error).message}`, "E_WRITE");
  }
}
