/**
 * Diagnosis-key files of GAEN key servers: `export.bin` (16-byte header + protobuf
 * `TemporaryExposureKeyExport`) and `export.sig` (`TEKSignatureList`), as typed values.
 * Pure: bytes in, bytes out. Source: docs/protocols.md, Diagnosis-key files; Google, "Exposure
 * Key File Format and Verification"
 * (https://developers.google.com/android/exposure-notifications/exposure-key-file-format).
 */

import protobuf from "protobufjs";
import { KeyFileError } from "../../core/errors.js";
import { toHex } from "../../core/hex.js";
import { GAEN_KEY_BYTES, GAEN_ROLLING_PERIOD } from "../../protocols/gaen.js";
import { exportProto } from "./export-proto.js";

/** The 16 bytes before the protobuf of every export.bin (four trailing spaces). */
export const EXPORT_BIN_HEADER = "EK Export v1    ";
/** Largest `batch_size` a verifier accepts (docs/protocols.md, Diagnosis-key files). */
export const MAX_BATCH_SIZE = 1_000_000;
/** `TemporaryExposureKey.ReportType`, indexed by its value. */
export const REPORT_TYPES = [
  "UNKNOWN",
  "CONFIRMED_TEST",
  "CONFIRMED_CLINICAL_DIAGNOSIS",
  "SELF_REPORT",
  "RECURSIVE",
  "REVOKED",
] as const;

const HEADER_BYTES = new TextEncoder().encode(EXPORT_BIN_HEADER);
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Which key (and version of it) signed a file; fields absent in old files read as `undefined`. */
export interface SignatureInfo {
  verificationKeyVersion?: string;
  verificationKeyId?: string;
  /** An OID; "1.2.840.10045.4.3.2" is ECDSA P-256 with SHA-256. */
  signatureAlgorithm?: string;
}

/** One published Temporary Exposure Key. */
export interface DiagnosisKey {
  /** The 16-byte TEK. */
  keyData: Uint8Array;
  /** Deprecated by EN v1.5 but still written by many servers. */
  transmissionRiskLevel?: number;
  /** ENIN (10-minute interval number) at which the key starts. */
  rollingStartIntervalNumber: number;
  /** Intervals covered, 1..144; 144 when the file leaves it out. */
  rollingPeriod: number;
  /** An index into `REPORT_TYPES`. */
  reportType?: number;
  daysSinceOnsetOfSymptoms?: number;
}

/** The content of an export.bin. */
export interface KeyFile {
  /** Start of the window of key arrival at the server, unix seconds. */
  startTimestampS: number;
  endTimestampS: number;
  region: string;
  /** 1-based position of this file in its batch. */
  batchNum: number;
  batchSize: number;
  signatureInfos: SignatureInfo[];
  keys: DiagnosisKey[];
  revisedKeys: DiagnosisKey[];
}

/** One entry of an export.sig: a DER ECDSA signature over the whole export.bin, header included. */
export interface TekSignature {
  signatureInfo: SignatureInfo;
  batchNum: number;
  batchSize: number;
  signature: Uint8Array;
}

// What protobufjs's toObject returns ({ longs: String, arrays: true }); absent fields are absent.
interface RawSignatureInfo {
  verificationKeyVersion?: string;
  verificationKeyId?: string;
  signatureAlgorithm?: string;
}
interface RawKey {
  keyData?: Uint8Array;
  transmissionRiskLevel?: number;
  rollingStartIntervalNumber?: number;
  rollingPeriod?: number;
  reportType?: number;
  daysSinceOnsetOfSymptoms?: number;
}
interface RawSignature {
  signatureInfo?: RawSignatureInfo;
  batchNum?: number;
  batchSize?: number;
  signature?: Uint8Array;
}

const TO_OBJECT = { longs: String, arrays: true } as const;

function isInt32(value: unknown): value is number {
  return (
    Number.isInteger(value) && (value as number) >= INT32_MIN && (value as number) <= INT32_MAX
  );
}

/** The protobuf name of each `DiagnosisKey` field, as used in messages. */
export const DIAGNOSIS_KEY_PROTO_NAMES: Readonly<Record<keyof DiagnosisKey, string>> = {
  keyData: "key_data",
  transmissionRiskLevel: "transmission_risk_level",
  rollingStartIntervalNumber: "rolling_start_interval_number",
  rollingPeriod: "rolling_period",
  reportType: "report_type",
  daysSinceOnsetOfSymptoms: "days_since_onset_of_symptoms",
};

/**
 * What is wrong with `key`, as a phrase naming the field (by `names`), or `undefined` when it
 * can be published.
 */
export function diagnosisKeyProblem(
  key: DiagnosisKey,
  names: Readonly<Record<keyof DiagnosisKey, string>> = DIAGNOSIS_KEY_PROTO_NAMES,
): string | undefined {
  if (!(key.keyData instanceof Uint8Array)) return `${names.keyData} is missing`;
  if (key.keyData.length !== GAEN_KEY_BYTES) {
    return `${names.keyData} is ${key.keyData.length} bytes, must be ${GAEN_KEY_BYTES}`;
  }
  const start = key.rollingStartIntervalNumber;
  if (start === undefined) return `${names.rollingStartIntervalNumber} is missing`;
  if (!isInt32(start) || start < 0) {
    return `${names.rollingStartIntervalNumber} ${start} is not an interval number (a 32-bit integer >= 0)`;
  }
  const period = key.rollingPeriod;
  if (!Number.isInteger(period) || period < 1 || period > GAEN_ROLLING_PERIOD) {
    return `${names.rollingPeriod} ${period} is outside 1..${GAEN_ROLLING_PERIOD}`;
  }
  const reportType = key.reportType;
  if (
    reportType !== undefined &&
    (!Number.isInteger(reportType) || reportType < 0 || reportType >= REPORT_TYPES.length)
  ) {
    return `${names.reportType} ${reportType} is not one of 0..${REPORT_TYPES.length - 1} (${REPORT_TYPES.join(", ")})`;
  }
  for (const field of ["transmissionRiskLevel", "daysSinceOnsetOfSymptoms"] as const) {
    const value = key[field];
    if (value !== undefined && !isInt32(value)) {
      return `${names[field]} ${value} is not a 32-bit integer`;
    }
  }
  return undefined;
}

function invalid(what: string, message: string): never {
  throw new KeyFileError(`${what}: ${message}`, "E_KEY_FILE_INVALID");
}

/** Throws a `KeyFileError` naming the field (and key index) of the first rule `file` breaks. */
function checkKeyFile(file: KeyFile, what: string, check = { keys: true }): void {
  for (const field of ["startTimestampS", "endTimestampS"] as const) {
    const value = file[field];
    if (!Number.isSafeInteger(value) || value < 0) {
      invalid(what, `${field} ${value} is not a time in unix seconds`);
    }
  }
  if (typeof file.region !== "string") invalid(what, "region is not a string");
  const { batchNum, batchSize } = file;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    invalid(what, `batch_size ${batchSize} is outside 1..${MAX_BATCH_SIZE}`);
  }
  if (!Number.isInteger(batchNum) || batchNum < 1 || batchNum > batchSize) {
    invalid(what, `batch_num ${batchNum} is outside 1..batch_size (${batchSize})`);
  }
  if (!check.keys) return;
  for (const [field, keys] of [
    ["keys", file.keys],
    ["revised_keys", file.revisedKeys],
  ] as const) {
    for (let i = 0; i < keys.length; i++) {
      const problem = diagnosisKeyProblem(keys[i]);
      if (problem) invalid(what, `${field}[${i}]: ${problem}`);
    }
  }
}

function timestampS(value: string | undefined, field: string, what: string): number {
  if (value === undefined) return 0;
  const seconds = Number(value);
  if (!Number.isSafeInteger(seconds)) invalid(what, `${field} ${value} is too large to be a time`);
  return seconds;
}

function signatureInfoFromRaw(raw: RawSignatureInfo | undefined): SignatureInfo {
  const info: SignatureInfo = {};
  if (raw?.verificationKeyVersion !== undefined)
    info.verificationKeyVersion = raw.verificationKeyVersion;
  if (raw?.verificationKeyId !== undefined) info.verificationKeyId = raw.verificationKeyId;
  if (raw?.signatureAlgorithm !== undefined) info.signatureAlgorithm = raw.signatureAlgorithm;
  return info;
}

function rawFromKey(key: DiagnosisKey): RawKey {
  return {
    keyData: key.keyData,
    transmissionRiskLevel: key.transmissionRiskLevel,
    rollingStartIntervalNumber: key.rollingStartIntervalNumber,
    // Left out when it is the default, as Google's server does: keeps re-encoding byte-exact.
    rollingPeriod: key.rollingPeriod === GAEN_ROLLING_PERIOD ? undefined : key.rollingPeriod,
    reportType: key.reportType,
    daysSinceOnsetOfSymptoms: key.daysSinceOnsetOfSymptoms,
  };
}

function describeHeader(bytes: Uint8Array): string {
  const printable = bytes.every((b) => b >= 0x20 && b < 0x7f);
  return printable ? JSON.stringify(String.fromCharCode(...bytes)) : `hex ${toHex(bytes)}`;
}

/** Most `signature_infos` an export.bin may announce: real files carry one or two. */
export const MAX_SIGNATURE_INFOS = 1000;
/** Keys whose data share one copied block (16 bytes each): one buffer per block, not per key. */
const KEY_DATA_BLOCK_KEYS = 4096;

/**
 * Copies key data out of the input into shared blocks, so decoded keys do not keep the input
 * alive and a million keys cost a million small views rather than a million buffers.
 */
class KeyDataCopier {
  private block = new Uint8Array(0);
  private used = 0;

  copy(bytes: Uint8Array): Uint8Array {
    if (bytes.length !== GAEN_KEY_BYTES) return new Uint8Array(bytes);
    if (this.used + bytes.length > this.block.length) {
      this.block = new Uint8Array(KEY_DATA_BLOCK_KEYS * GAEN_KEY_BYTES);
      this.used = 0;
    }
    const view = this.block.subarray(this.used, this.used + bytes.length);
    view.set(bytes);
    this.used += bytes.length;
    return view;
  }
}

/** A decoded `TemporaryExposureKey` message as a `DiagnosisKey`; unset fields stay absent. */
function keyFromMessage(message: protobuf.Message, copier: KeyDataCopier): DiagnosisKey {
  const raw = message as unknown as RawKey;
  const has = (field: keyof RawKey) => Object.hasOwn(message, field);
  const key = {
    keyData: has("keyData") ? copier.copy(raw.keyData as Uint8Array) : undefined,
    rollingStartIntervalNumber: has("rollingStartIntervalNumber")
      ? raw.rollingStartIntervalNumber
      : undefined,
    rollingPeriod: has("rollingPeriod") ? raw.rollingPeriod : GAEN_ROLLING_PERIOD,
  } as DiagnosisKey;
  if (has("transmissionRiskLevel")) key.transmissionRiskLevel = raw.transmissionRiskLevel;
  if (has("reportType")) key.reportType = raw.reportType;
  if (has("daysSinceOnsetOfSymptoms")) key.daysSinceOnsetOfSymptoms = raw.daysSinceOnsetOfSymptoms;
  return key;
}

/**
 * Decodes and validates an export.bin. Every failure is a `KeyFileError` whose message starts
 * with `what` and names the field and key index at fault. Old files that still set the
 * reserved SignatureInfo fields 1-2 decode; those fields are dropped.
 *
 * The top-level fields are walked one by one with a protobufjs `Reader`, and each key is
 * decoded and checked as it comes: a file of millions of invalid keys fails on the first, and
 * memory stays a small multiple of the file (decoding it whole first cost ~25 times its size).
 * The header fields (timestamps, batch) are checked once the whole message has been read.
 */
export function decodeExportBin(bytes: Uint8Array, what = "export.bin"): KeyFile {
  const headerLength = HEADER_BYTES.length;
  if (bytes.length < headerLength) {
    throw new KeyFileError(
      `${what} is ${bytes.length} bytes, too short for the ${headerLength}-byte header ${JSON.stringify(EXPORT_BIN_HEADER)}`,
      "E_KEY_FILE_HEADER",
    );
  }
  const header = bytes.subarray(0, headerLength);
  if (!header.every((b, i) => b === HEADER_BYTES[i])) {
    throw new KeyFileError(
      `${what} does not start with the header ${JSON.stringify(EXPORT_BIN_HEADER)} (found ${describeHeader(header)})`,
      "E_KEY_FILE_HEADER",
    );
  }
  let startTimestamp: string | undefined;
  let endTimestamp: string | undefined;
  let region: string | undefined;
  let batchNum: number | undefined;
  let batchSize: number | undefined;
  const signatureInfos: SignatureInfo[] = [];
  const keys: DiagnosisKey[] = [];
  const revisedKeys: DiagnosisKey[] = [];
  const copier = new KeyDataCopier();
  const keyType = exportProto.TemporaryExposureKey;
  const infoType = exportProto.SignatureInfo;
  const reader = protobuf.Reader.create(bytes.subarray(headerLength));
  try {
    // The same fields, in the same way, as TemporaryExposureKeyExport.decode would read them.
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      switch (tag >>> 3) {
        case 1:
          startTimestamp = String(reader.fixed64());
          break;
        case 2:
          endTimestamp = String(reader.fixed64());
          break;
        case 3:
          region = reader.string();
          break;
        case 4:
          batchNum = reader.int32();
          break;
        case 5:
          batchSize = reader.int32();
          break;
        case 6: {
          if (signatureInfos.length === MAX_SIGNATURE_INFOS)
            invalid(what, `it announces more than ${MAX_SIGNATURE_INFOS} signature_infos`);
          const info = infoType.toObject(infoType.decode(reader, reader.uint32()), TO_OBJECT);
          signatureInfos.push(signatureInfoFromRaw(info as RawSignatureInfo));
          break;
        }
        case 7:
        case 8: {
          const into = tag >>> 3 === 7 ? keys : revisedKeys;
          const key = keyFromMessage(keyType.decode(reader, reader.uint32()), copier);
          const problem = diagnosisKeyProblem(key);
          if (problem)
            invalid(what, `${into === keys ? "keys" : "revised_keys"}[${into.length}]: ${problem}`);
          into.push(key);
          break;
        }
        default:
          reader.skipType(tag & 7);
      }
    }
  } catch (error) {
    if (error instanceof KeyFileError) throw error;
    throw new KeyFileError(
      `${what} is truncated or corrupt: its protobuf does not decode (${(error as Error).message})`,
      "E_KEY_FILE_PROTOBUF",
      { cause: error },
    );
  }
  const file: KeyFile = {
    startTimestampS: timestampS(startTimestamp, "start_timestamp", what),
    endTimestampS: timestampS(endTimestamp, "end_timestamp", what),
    region: region ?? "",
    batchNum: batchNum ?? 0,
    batchSize: batchSize ?? 0,
    signatureInfos,
    keys,
    revisedKeys,
  };
  checkKeyFile(file, what, { keys: false });
  return file;
}

/** Encodes `file` as an export.bin, after the same checks `decodeExportBin` makes. */
export function encodeExportBin(file: KeyFile): Uint8Array {
  checkKeyFile(file, "export.bin");
  const body = exportProto.TemporaryExposureKeyExport.encode({
    startTimestamp: file.startTimestampS,
    endTimestamp: file.endTimestampS,
    region: file.region,
    batchNum: file.batchNum,
    batchSize: file.batchSize,
    signatureInfos: file.signatureInfos,
    keys: file.keys.map(rawFromKey),
    revisedKeys: file.revisedKeys.map(rawFromKey),
  }).finish();
  const out = new Uint8Array(HEADER_BYTES.length + body.length);
  out.set(HEADER_BYTES);
  out.set(body, HEADER_BYTES.length);
  return out;
}

/**
 * Decodes an export.sig. Only the encoding is checked here; whether the signatures hold is
 * `verifyExportSig`'s job.
 */
export function decodeExportSig(bytes: Uint8Array, what = "export.sig"): TekSignature[] {
  const type = exportProto.TEKSignatureList;
  let raw: { signatures: RawSignature[] };
  try {
    raw = type.toObject(type.decode(bytes), TO_OBJECT) as { signatures: RawSignature[] };
  } catch (error) {
    throw new KeyFileError(
      `${what} is truncated or corrupt: its protobuf does not decode (${(error as Error).message})`,
      "E_KEY_FILE_PROTOBUF",
      { cause: error },
    );
  }
  return raw.signatures.map((s) => ({
    signatureInfo: signatureInfoFromRaw(s.signatureInfo),
    batchNum: s.batchNum ?? 0,
    batchSize: s.batchSize ?? 0,
    signature: new Uint8Array(s.signature ?? []),
  }));
}

/** Encodes the signatures as an export.sig (`TEKSignatureList`). */
export function encodeExportSig(signatures: readonly TekSignature[]): Uint8Array {
  for (const [i, s] of signatures.entries()) {
    if (!isInt32(s.batchNum) || !isInt32(s.batchSize)) {
      throw new KeyFileError(
        `export.sig: signatures[${i}] batch_num ${s.batchNum} / batch_size ${s.batchSize} are not 32-bit integers`,
        "E_KEY_FILE_INVALID",
      );
    }
  }
  return exportProto.TEKSignatureList.encode({ signatures }).finish();
}
