/** Reads and writes key-store files: JSON, mode 0600, replaced atomically. */
import {
  closeSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { KeyFileError, StoreError } from "../core/errors.js";
import { KeyStore } from "../protocols/key-store.js";

/** Largest key store we read (a year of keys is ~40 KB). */
const MAX_BYTES = 4 * 1024 * 1024;

export function loadKeyStore(path: string): KeyStore {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      throw new KeyFileError(
        `key store ${path} does not exist (create one with: proxkit keys new)`,
        "E_NOT_FOUND",
      );
    throw new KeyFileError(`cannot read key store ${path}: ${(error as Error).message}`, "E_READ");
  }
  if (text.length > MAX_BYTES)
    throw new KeyFileError(`key store ${path} is too large to be a key store`, "E_KEY_STORE");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KeyFileError(`key store ${path} is not valid JSON`, "E_KEY_STORE");
  }
  return KeyStore.fromJson(json, `key store ${path}`);
}

/**
 * Writes the store with mode 0600 to a temporary file beside it, flushes it, then renames it
 * over the old one, so a crash never leaves a half-written key store.
 */
export function saveKeyStore(
  path: string,
  store: KeyStore,
  options: { overwrite?: boolean } = {},
): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const data = `${JSON.stringify(store.toJson(), null, 2)}\n`;
  let fd: number | undefined;
  try {
    fd = openSync(temp, "wx", 0o600);
    writeSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (options.overwrite) {
      renameSync(temp, path);
    } else {
      try {
        // link() fails atomically if the path exists: an existing store may hold the only copy of its keys.
        linkSync(temp, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST") {
          throw new KeyFileError(
            `${path} already exists; refusing to overwrite a key store`,
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
      // already renamed or never created
    }
    if (error instanceof KeyFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new KeyFileError(
        `cannot create ${path}: folder ${dirname(path)} does not exist`,
        "E_PATH",
      );
    }
    if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
      throw new KeyFileError(
        `cannot create ${path}: no permission to write in ${dirname(path)}`,
        "E_PATH",
      );
    }
    throw new StoreError(`cannot write key store ${path}: ${(error as Error).message}`, "E_WRITE");
  }
}
