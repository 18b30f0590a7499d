/**
 * Builds a signed diagnosis-key file (export.bin + export.sig) from keys, as a key server
 * publishes it. Pure: the caller writes the parts (`writeKeyFileZip`).
 */
import { KeyFileError } from "../../core/errors.js";
import { toHex } from "../../core/hex.js";
import { type DiagnosisKey, encodeExportBin } from "./key-file.js";
import { signatureInfoFor, signExportBin } from "./signature.js";

export interface ExportKeyFileOptions {
  keys: readonly DiagnosisKey[];
  /** Keys whose report type changed since an earlier file; none by default. */
  revisedKeys?: readonly DiagnosisKey[];
  /** The region the keys come from, e.g. "US" (an ISO 3166 code or the server's own name). */
  region: string;
  /** Window of key arrival at the server, unix seconds. */
  startTimestampS: number;
  endTimestampS: number;
  /** ECDSA P-256 private key, PEM. */
  signingKeyPem: string;
  /** The id and version verifiers know the signing key by, e.g. "310" and "v1". */
  keyId: string;
  keyVersion: string;
  /** 1-based position in the batch; default 1 of 1. */
  batchNum?: number;
  batchSize?: number;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** Copies and sorts keys by key data, so a file reveals nothing of upload order; refuses repeats. */
function sortedUnique(keys: readonly DiagnosisKey[], field: string): DiagnosisKey[] {
  const sorted = [...keys].sort((a, b) => compareBytes(a.keyData, b.keyData));
  for (let i = 1; i < sorted.length; i++) {
    if (compareBytes(sorted[i - 1].keyData, sorted[i].keyData) === 0) {
      throw new KeyFileError(
        `${field}: key ${toHex(sorted[i].keyData)} appears twice`,
        "E_KEY_DUPLICATE",
      );
    }
  }
  return sorted;
}

/**
 * Encodes the keys as an export.bin announcing one signature, and signs it. Keys are sorted by
 * key data (Google's server does the same, so that the order leaks nothing). Throws a
 * `KeyFileError` for an invalid key (naming its index after sorting), a repeated key, an empty
 * region, a window that ends before it starts, or a signing key that is not P-256.
 */
export function exportKeyFile(options: ExportKeyFileOptions): { bin: Uint8Array; sig: Uint8Array } {
  if (options.region.trim() === "") throw new KeyFileError("region must not be empty", "E_REGION");
  if (options.endTimestampS < options.startTimestampS) {
    throw new KeyFileError(
      `endTimestampS ${options.endTimestampS} is before startTimestampS ${options.startTimestampS}`,
      "E_KEY_FILE_INVALID",
    );
  }
  const signingKey = {
    privateKeyPem: options.signingKeyPem,
    keyId: options.keyId,
    keyVersion: options.keyVersion,
  };
  const bin = encodeExportBin({
    startTimestampS: options.startTimestampS,
    endTimestampS: options.endTimestampS,
    region: options.region,
    batchNum: options.batchNum ?? 1,
    batchSize: options.batchSize ?? 1,
    signatureInfos: [signatureInfoFor(signingKey)],
    keys: sortedUnique(options.keys, "keys"),
    revisedKeys: sortedUnique(options.revisedKeys ?? [], "revised_keys"),
  });
  return { bin, sig: signExportBin(bin, [signingKey]) };
}
