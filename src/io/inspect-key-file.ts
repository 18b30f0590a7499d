/** A one-line summary of a diagnosis-key file, what `proxkit keys inspect FILE` prints. */
import { KeyFileError } from "../core/errors.js";
import type { KeyFile } from "../exposure/key-file/key-file.js";
import { decodeExportBin } from "../exposure/key-file/key-file.js";
import { type SignatureStatus, verifyExportSig } from "../exposure/key-file/signature.js";
import { readKeyFile } from "./key-file-archive.js";

export interface InspectKeyFileOptions {
  /** Verification key, base64 SPKI or PEM; without it the signature is "unchecked". */
  publicKey?: string;
  /** Size limit for the file and its zip entries; default 64 MB. */
  maxBytes?: number;
}

export interface KeyFileSummary {
  region: string;
  /** Window of key arrival at the server, unix seconds. */
  start: number;
  end: number;
  /** [batch_num, batch_size]. */
  batch: [number, number];
  /** Number of keys (revised keys not counted). */
  keys: number;
  signature: SignatureStatus;
}

/**
 * Reads a key file (zip, bare export.bin or folder), decodes and validates its export.bin, and
 * checks its signature when `publicKey` is given. Bad input is a `KeyFileError`; when export.bin
 * does not decode and its signature fails too, the message says the file was damaged or altered.
 */
export function inspectKeyFile(path: string, options: InspectKeyFileOptions = {}): KeyFileSummary {
  const { bin, sig, format } = readKeyFile(path, { maxBytes: options.maxBytes });
  const signature = verifyExportSig(bin, sig, options.publicKey);
  let file: KeyFile;
  try {
    file = decodeExportBin(bin, format === "bin" ? path : `${path}: export.bin`);
  } catch (error) {
    if (error instanceof KeyFileError && signature === "invalid") {
      throw new KeyFileError(
        `${error.message}; its signature does not verify either, so the file was damaged or altered`,
        error.code,
        { cause: error },
      );
    }
    throw error;
  }
  return {
    region: file.region,
    start: file.startTimestampS,
    end: file.endTimestampS,
    batch: [file.batchNum, file.batchSize],
    keys: file.keys.length,
    signature,
  };
}
