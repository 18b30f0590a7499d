/**
 * The protobuf (proto2) schema of GAEN diagnosis-key files, built in code from its text: no
 * .proto file is read at run time and nothing is generated. Field numbers follow
 * docs/protocols.md (Diagnosis-key files) and Google's export.proto
 * (https://github.com/google/exposure-notifications-server/blob/main/internal/pb/export/export.proto).
 */
import protobuf from "protobufjs";

const SCHEMA = `
syntax = "proto2";
package proxkit.gaen;

message TemporaryExposureKeyExport {
  optional fixed64 start_timestamp = 1;
  optional fixed64 end_timestamp = 2;
  optional string region = 3;
  optional int32 batch_num = 4;
  optional int32 batch_size = 5;
  repeated SignatureInfo signature_infos = 6;
  repeated TemporaryExposureKey keys = 7;
  repeated TemporaryExposureKey revised_keys = 8;
}

message SignatureInfo {
  // Were app_bundle_id (1) and android_package (2). Old files still set them; the decoder
  // skips unknown fields, so they read as absent.
  reserved 1, 2;
  optional string verification_key_version = 3;
  optional string verification_key_id = 4;
  optional string signature_algorithm = 5;
}

message TemporaryExposureKey {
  optional bytes key_data = 1;
  optional int32 transmission_risk_level = 2;
  optional int32 rolling_start_interval_number = 3;
  optional int32 rolling_period = 4 [default = 144];
  optional ReportType report_type = 5;
  optional sint32 days_since_onset_of_symptoms = 6;

  enum ReportType {
    UNKNOWN = 0;
    CONFIRMED_TEST = 1;
    CONFIRMED_CLINICAL_DIAGNOSIS = 2;
    SELF_REPORT = 3;
    RECURSIVE = 4;
    REVOKED = 5;
  }
}

message TEKSignatureList {
  repeated TEKSignature signatures = 1;
}

message TEKSignature {
  optional SignatureInfo signature_info = 1;
  optional int32 batch_num = 2;
  optional int32 batch_size = 3;
  optional bytes signature = 4;
}
`;

const root = protobuf.parse(SCHEMA).root;

/** The message types of export.bin and export.sig (field names in camelCase). */
export const exportProto = {
  TemporaryExposureKeyExport: root.lookupType("proxkit.gaen.TemporaryExposureKeyExport"),
  TemporaryExposureKey: root.lookupType("proxkit.gaen.TemporaryExposureKey"),
  SignatureInfo: root.lookupType("proxkit.gaen.SignatureInfo"),
  TEKSignatureList: root.lookupType("proxkit.gaen.TEKSignatureList"),
  TEKSignature: root.lookupType("proxkit.gaen.TEKSignature"),
} as const;
