/** GAEN diagnosis-key files: decode, validate, sign, verify, read and write them. */

export { parseDiagnosisKeysJsonl } from "./diagnosis-keys-jsonl.js";
export { type ExportKeyFileOptions, exportKeyFile } from "./export-key-file.js";
export { exportProto } from "./export-proto.js";
export {
  DIAGNOSIS_KEY_PROTO_NAMES,
  type DiagnosisKey,
  decodeExportBin,
  decodeExportSig,
  diagnosisKeyProblem,
  EXPORT_BIN_HEADER,
  encodeExportBin,
  encodeExportSig,
  type KeyFile,
  MAX_BATCH_SIZE,
  MAX_SIGNATURE_INFOS,
  REPORT_TYPES,
  type SignatureInfo,
  type TekSignature,
} from "./key-file.js";
export {
  DEFAULT_MAX_KEY_FILE_BYTES,
  EXPORT_BIN_NAME,
  EXPORT_SIG_NAME,
  type KeyFileParts,
  unzipKeyFile,
  zipKeyFile,
} from "./key-file-zip.js";
export {
  ECDSA_P256_SHA256_OID,
  parsePublicKey,
  type SignatureStatus,
  type SigningKey,
  signatureInfoFor,
  signExportBin,
  verifyExportSig,
} from "./signature.js";
