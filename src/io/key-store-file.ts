/** Reads and writes key-store files: JSON, mode 0600, replaced atomically. */
import { readFileSync } from "node:fs";
import { KeyFileError, ProxkitError } from "../core/errors.js";
import { KeyStore } from "../protocols/key-store.js";
import { writeFileAtomic } from "./atomic-write.js";
import { checkInputFile } from "./read-input-file.js";

/** Largest key store we read (a year of keys is ~40 KB). */
const MAX_BYTES = 4 * 1024 * 1024;

export function loadKeyStore(path: string): KeyStore {
  let text: string;
  try {
    // A FIFO, a device or a huge file is refused from stat alone, before it is opened.
    checkInputFile(path, {
      what: "key store",
      maxBytes: MAX_BYTES,
      code: "E_KEY_STORE",
      missing: `key store ${path} does not exist (create one with: proxkit keys new)`,
    });
  } catch (error) {
    if (error instanceof ProxkitError) throw new KeyFileError(error.message, error.code);
    throw error;
  }
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
 * Writes the store with mode 0600, atomically; an existing store is replaced only when
 * `overwrite` is set, since it may hold the only copy of its keys.
 */
export function saveKeyStore(
  path: string,
  store: KeyStore,
  options: { overwrite?: boolean } = {},
): void {
  const data = `${JSON.stringify(store.toJson(), null, 2)}\n`;
  writeFileAtomic(path, data, {
    mode: 0o600,
    overwrite: options.overwrite ?? false,
    what: "key store",
    inputError: KeyFileError,
  });
}
