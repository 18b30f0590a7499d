/**
 * Signing and verifying diagnosis-key files: ECDSA P-256 with SHA-256, DER signatures over the
 * whole export.bin (header included), held in export.sig. Source: docs/protocols.md,
 * Diagnosis-key files; Google, "Exposure Key File Format and Verification"
 * (https://developers.google.com/android/exposure-notifications/exposure-key-file-format).
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { KeyFileError } from "../../core/errors.js";
import {
  decodeExportBin,
  decodeExportSig,
  encodeExportSig,
  type KeyFile,
  MAX_BATCH_SIZE,
  type SignatureInfo,
  type TekSignature,
} from "./key-file.js";

/** OID of ECDSA with SHA-256 (RFC 5758 §3.2), the only algorithm of GAEN key files. */
export const ECDSA_P256_SHA256_OID = "1.2.840.10045.4.3.2";

/**
 * `valid`: a signature by the given key verifies and the verifier rules hold; `invalid`: none
 * does, or a rule fails; `absent`: there is no export.sig; `unchecked`: no public key was given.
 */
export type SignatureStatus = "valid" | "invalid" | "absent" | "unchecked";

/** A private signing key (PEM, ECDSA P-256) and the id and version a verifier knows it by. */
export interface SigningKey {
  privateKeyPem: string;
  keyId: string;
  keyVersion: string;
}

/** The SignatureInfo announcing a signature by key `keyId`, version `keyVersion`. */
export function signatureInfoFor(key: { keyId: string; keyVersion: string }): SignatureInfo {
  return {
    verificationKeyVersion: key.keyVersion,
    verificationKeyId: key.keyId,
    signatureAlgorithm: ECDSA_P256_SHA256_OID,
  };
}

function requireP256(key: KeyObject, what: string): KeyObject {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== "ec" || curve !== "prime256v1") {
    const got = key.asymmetricKeyType === "ec" ? `curve ${curve}` : key.asymmetricKeyType;
    throw new KeyFileError(`${what} must be an ECDSA P-256 key, got ${got}`, "E_KEY_TYPE");
  }
  return key;
}

/**
 * Parses a verification key given as base64 SPKI (as key servers publish it) or as PEM.
 * Throws a `KeyFileError` when it is neither, or not P-256.
 */
export function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    if (trimmed.includes("-----BEGIN")) {
      key = createPublicKey(trimmed);
    } else {
      const base64 = trimmed.replace(/\s+/g, "");
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw new Error("not base64");
      key = createPublicKey({ key: Buffer.from(base64, "base64"), format: "der", type: "spki" });
    }
  } catch (error) {
    throw new KeyFileError(
      "public key is neither PEM nor base64 SPKI (e.g. MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE...)",
      "E_PUBLIC_KEY",
      { cause: error },
    );
  }
  return requireP256(key, "public key");
}

function parsePrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new KeyFileError("signing key is not a PEM private key", "E_SIGNING_KEY", {
      cause: error,
    });
  }
  return requireP256(key, "signing key");
}

function sameInfo(a: SignatureInfo, b: SignatureInfo): boolean {
  return (
    a.verificationKeyId === b.verificationKeyId &&
    a.verificationKeyVersion === b.verificationKeyVersion
  );
}

/**
 * Signs an export.bin with each key and returns the export.sig. The export.bin must announce
 * exactly these keys in its `signature_infos` (verifiers require one signature per entry).
 */
export function signExportBin(bin: Uint8Array, signingKeys: readonly SigningKey[]): Uint8Array {
  const file = decodeExportBin(bin);
  if (signingKeys.length !== file.signatureInfos.length) {
    throw new KeyFileError(
      `export.bin announces ${file.signatureInfos.length} signature(s) in signature_infos but ${signingKeys.length} signing key(s) were given`,
      "E_SIGNATURE_COUNT",
    );
  }
  const signatures: TekSignature[] = signingKeys.map((signingKey) => {
    const info = signatureInfoFor(signingKey);
    const announced = file.signatureInfos.find((candidate) => sameInfo(candidate, info));
    if (!announced) {
      throw new KeyFileError(
        `export.bin does not announce key id ${JSON.stringify(signingKey.keyId)} version ${JSON.stringify(signingKey.keyVersion)} in signature_infos`,
        "E_SIGNATURE_INFO",
      );
    }
    const key = parsePrivateKey(signingKey.privateKeyPem);
    return {
      signatureInfo: announced,
      batchNum: file.batchNum,
      batchSize: file.batchSize,
      signature: new Uint8Array(sign("sha256", bin, { key, dsaEncoding: "der" })),
    };
  });
  return encodeExportSig(signatures);
}

function verifies(bin: Uint8Array, signature: TekSignature, key: KeyObject): boolean {
  const algorithm = signature.signatureInfo.signatureAlgorithm;
  if (algorithm !== undefined && algorithm !== ECDSA_P256_SHA256_OID) return false;
  try {
    return verify("sha256", bin, { key, dsaEncoding: "der" }, signature.signature);
  } catch {
    return false; // malformed DER
  }
}

function rulesHold(file: KeyFile, signatures: TekSignature[], signature: TekSignature): boolean {
  return (
    signatures.length === file.signatureInfos.length &&
    signature.batchNum === file.batchNum &&
    signature.batchSize === file.batchSize &&
    signature.batchNum >= 1 &&
    signature.batchNum <= signature.batchSize &&
    signature.batchSize <= MAX_BATCH_SIZE
  );
}

/**
 * Checks export.sig against export.bin with `publicKey` (base64 SPKI, PEM, or a KeyObject).
 * The signatures are checked over the raw bytes first, so a damaged export.bin that no longer
 * decodes is `invalid` rather than an error. Then the verifier rules: as many signatures as
 * export.bin's signature_infos, and batch_num/batch_size equal in both and in range. A
 * malformed public key is a `KeyFileError`; a malformed export.sig is `invalid`.
 */
export function verifyExportSig(
  bin: Uint8Array,
  sig: Uint8Array | undefined,
  publicKey: string | KeyObject | undefined,
): SignatureStatus {
  if (sig === undefined) return "absent";
  if (publicKey === undefined) return "unchecked";
  const key =
    typeof publicKey === "string"
      ? parsePublicKey(publicKey)
      : requireP256(publicKey, "public key");
  let signatures: TekSignature[];
  let file: KeyFile | undefined;
  try {
    signatures = decodeExportSig(sig);
  } catch {
    return "invalid";
  }
  for (const signature of signatures) {
    if (!verifies(bin, signature, key)) continue;
    try {
      file ??= decodeExportBin(bin);
    } catch {
      return "invalid"; // signed, but breaks the format rules
    }
    if (rulesHold(file, signatures, signature)) return "valid";
  }
  return "invalid";
}
