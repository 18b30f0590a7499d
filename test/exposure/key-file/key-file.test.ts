import { readFileSync } from "node:fs";
import fc from "fast-check";
import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import { KeyFileError } from "../../../src/core/errors.js";
import {
  decodeExportBin,
  decodeExportSig,
  ECDSA_P256_SHA256_OID,
  EXPORT_BIN_HEADER,
  encodeExportBin,
  encodeExportSig,
  exportProto,
  type KeyFile,
  MAX_SIGNATURE_INFOS,
  type TekSignature,
} from "../../../src/exposure/key-file/index.js";
import { readKeyFile } from "../../../src/io/key-file-archive.js";
import { BIN_200_KEYS, expectKeyFileError, REAL_FILES, makeKeys, SIGNED_ZIP } from "./fixtures.js";
import { describeWith } from "../../support/requirements.js";

const HEADER = new TextEncoder().encode(EXPORT_BIN_HEADER);

/** An export.bin from a raw protobuf object, bypassing the encoder's checks. */
function rawExportBin(message: Record<string, unknown>): Uint8Array {
  const body = exportProto.TemporaryExposureKeyExport.encode(message).finish();
  return new Uint8Array([...HEADER, ...body]);
}

function validFile(overrides: Partial<KeyFile> = {}): KeyFile {
  return {
    startTimestampS: 1_593_633_600,
    endTimestampS: 1_593_720_000,
    region: "US",
    batchNum: 1,
    batchSize: 1,
    signatureInfos: [
      {
        verificationKeyVersion: "v1",
        verificationKeyId: "310",
        signatureAlgorithm: ECDSA_P256_SHA256_OID,
      },
    ],
    keys: makeKeys(5),
    revisedKeys: [],
    ...overrides,
  };
}

const rawKey = (overrides: Record<string, unknown> = {}) => ({
  keyData: new Uint8Array(16).fill(7),
  rollingStartIntervalNumber: 2653776,
  ...overrides,
});
const rawFile = (overrides: Record<string, unknown> = {}) => ({
  startTimestamp: 1_593_633_600,
  endTimestamp: 1_593_720_000,
  region: "US",
  batchNum: 1,
  batchSize: 1,
  keys: [rawKey(), rawKey()],
  ...overrides,
});

describeWith(REAL_FILES)("the real key files (docs/protocols.md, real files)", () => {
  it("the signed sample zip holds 140 keys from region US, batch 1 of 1", () => {
    const { bin, sig, format } = readKeyFile(SIGNED_ZIP);
    expect(format).toBe("zip");
    expect(sig).toBeDefined();
    const file = decodeExportBin(bin);
    expect(file.region).toBe("US");
    expect(file.keys).toHaveLength(140);
    expect(file.revisedKeys).toHaveLength(0);
    expect([file.batchNum, file.batchSize]).toEqual([1, 1]);
    expect([file.startTimestampS, file.endTimestampS]).toEqual([1_593_633_600, 1_593_633_900]);
    expect(file.signatureInfos).toEqual([
      {
        verificationKeyVersion: "v1",
        verificationKeyId: "310",
        signatureAlgorithm: ECDSA_P256_SHA256_OID,
      },
    ]);
    // rolling_period is left out of every key: the proto2 default applies.
    expect(file.keys.every((k) => k.rollingPeriod === 144 && k.keyData.length === 16)).toBe(true);
    const signatures = decodeExportSig(sig!);
    expect(signatures).toHaveLength(1);
    expect(signatures[0].signatureInfo).toEqual(file.signatureInfos[0]);
    expect([signatures[0].batchNum, signatures[0].batchSize]).toEqual([1, 1]);
  });

  it("re-encodes the signed sample byte for byte (so its signature still holds)", () => {
    const { bin } = readKeyFile(SIGNED_ZIP);
    expect(encodeExportBin(decodeExportBin(bin))).toEqual(bin);
  });

  it("the bare export.bin holds 200 keys; its old SignatureInfo field 2 is skipped", () => {
    const bin = new Uint8Array(readFileSync(BIN_200_KEYS));
    expect(readKeyFile(BIN_200_KEYS).format).toBe("bin");
    const file = decodeExportBin(bin);
    expect(file.keys).toHaveLength(200);
    expect(file.region).toBe("US");
    expect(file.signatureInfos).toEqual([{}]);
    const periods = file.keys.map((k) => k.rollingPeriod);
    expect(Math.min(...periods)).toBeGreaterThanOrEqual(1);
    expect(periods.filter((p) => p === 144)).toHaveLength(2);
    // Re-encoding drops only the reserved field (tag + 44-byte android_package string).
    const again = encodeExportBin(file);
    expect(bin.length - again.length).toBe(46);
    expect(decodeExportBin(again)).toEqual(file);
  });
});

describe("export.bin", () => {
  it("round-trips any valid content", () => {
    const key = fc.record(
      {
        keyData: fc.uint8Array({ minLength: 16, maxLength: 16 }),
        rollingStartIntervalNumber: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        rollingPeriod: fc.integer({ min: 1, max: 144 }),
        transmissionRiskLevel: fc.integer({ min: 0, max: 8 }),
        reportType: fc.integer({ min: 0, max: 5 }),
        daysSinceOnsetOfSymptoms: fc.integer({ min: -14, max: 14 }),
      },
      { requiredKeys: ["keyData", "rollingStartIntervalNumber", "rollingPeriod"] },
    );
    const file = fc
      .record({
        startTimestampS: fc.integer({ min: 0, max: 2 ** 40 }),
        endTimestampS: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        region: fc.string(),
        batchSize: fc.integer({ min: 1, max: 1_000_000 }),
        signatureInfos: fc.array(
          fc.record(
            {
              verificationKeyVersion: fc.string(),
              verificationKeyId: fc.string(),
              signatureAlgorithm: fc.constant(ECDSA_P256_SHA256_OID),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 2 },
        ),
        keys: fc.array(key, { maxLength: 20 }),
        revisedKeys: fc.array(key, { maxLength: 3 }),
      })
      .chain((f) =>
        fc.integer({ min: 1, max: f.batchSize }).map((batchNum) => ({ ...f, batchNum })),
      );
    fc.assert(
      fc.property(file, (f) => {
        expect(decodeExportBin(encodeExportBin(f))).toEqual(f);
      }),
    );
  });

  it("refuses a wrong or short header", () => {
    const bin = encodeExportBin(validFile());
    const wrong = bin.slice();
    wrong.set(new TextEncoder().encode("EK Export v2"));
    expectKeyFileError(
      () => decodeExportBin(wrong),
      /does not start with the header "EK Export v1 {4}" \(found "EK Export v2 {4}"\)/,
      "E_KEY_FILE_HEADER",
    );
    expectKeyFileError(
      () => decodeExportBin(bin.subarray(0, 10)),
      /10 bytes, too short for the 16-byte header/,
    );
    expectKeyFileError(() => decodeExportBin(new Uint8Array(20)), /\(found hex 0{32}\)/);
  });

  it("refuses a truncated protobuf with one clear error", () => {
    const bin = encodeExportBin(validFile());
    for (const cut of [1, 5, 17, 30]) {
      expectKeyFileError(
        () => decodeExportBin(bin.subarray(0, bin.length - cut)),
        /^export\.bin is truncated or corrupt: its protobuf does not decode/,
        "E_KEY_FILE_PROTOBUF",
      );
    }
  });

  it("throws nothing but KeyFileError on damaged or random bytes", () => {
    const bin = encodeExportBin(validFile({ keys: makeKeys(3) }));
    const attempt = (bytes: Uint8Array) => {
      try {
        decodeExportBin(bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(KeyFileError);
      }
    };
    for (let at = 0; at < bin.length; at++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const damaged = bin.slice();
        damaged[at] ^= mask;
        attempt(damaged);
      }
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (body) =>
        attempt(new Uint8Array([...HEADER, ...body])),
      ),
    );
  });

  it("names the key and field at fault", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { keys: [rawKey(), rawKey({ keyData: new Uint8Array(15) })] },
        /keys\[1\]: key_data is 15 bytes, must be 16/,
      ],
      [{ keys: [rawKey({ keyData: undefined })] }, /keys\[0\]: key_data is missing/],
      [{ keys: [rawKey({ rollingPeriod: 0 })] }, /keys\[0\]: rolling_period 0 is outside 1\.\.144/],
      [
        { keys: [rawKey(), rawKey(), rawKey({ rollingPeriod: 145 })] },
        /keys\[2\]: rolling_period 145/,
      ],
      [{ keys: [rawKey({ reportType: 6 })] }, /keys\[0\]: report_type 6 is not one of 0\.\.5/],
      [
        { keys: [rawKey({ rollingStartIntervalNumber: -1 })] },
        /rolling_start_interval_number -1 is not an interval number/,
      ],
      [
        { keys: [rawKey({ rollingStartIntervalNumber: undefined })] },
        /rolling_start_interval_number is missing/,
      ],
      [
        { revisedKeys: [rawKey({ keyData: new Uint8Array(17) })] },
        /revised_keys\[0\]: key_data is 17 bytes/,
      ],
      [{ batchNum: 0 }, /batch_num 0 is outside 1\.\.batch_size \(1\)/],
      [{ batchNum: 3, batchSize: 2 }, /batch_num 3 is outside 1\.\.batch_size \(2\)/],
      [{ batchNum: undefined }, /batch_num 0 is outside/],
      [{ batchNum: 1, batchSize: 1_000_001 }, /batch_size 1000001 is outside 1\.\.1000000/],
      [
        // 2^53 + 1 seconds: beyond what a JavaScript number holds exactly.
        { startTimestamp: "9007199254740993" },
        /start_timestamp 9007199254740993 is too large to be a time/,
      ],
    ];
    for (const [overrides, message] of cases) {
      expectKeyFileError(
        () => decodeExportBin(rawExportBin(rawFile(overrides))),
        message,
        "E_KEY_FILE_INVALID",
      );
    }
  });

  it("encodes only what it would decode", () => {
    const [key] = makeKeys(1);
    expectKeyFileError(
      () => encodeExportBin(validFile({ keys: [key, { ...key, keyData: new Uint8Array(15) }] })),
      /^export\.bin: keys\[1\]: key_data is 15 bytes, must be 16$/,
    );
    expectKeyFileError(() => encodeExportBin(validFile({ batchNum: 0 })), /batch_num 0/);
    expectKeyFileError(
      () => encodeExportBin(validFile({ batchNum: 2, batchSize: 1 })),
      /batch_num 2/,
    );
    expectKeyFileError(
      () => encodeExportBin(validFile({ startTimestampS: 1.5 })),
      /startTimestampS 1\.5 is not a time/,
    );
    expectKeyFileError(
      () => encodeExportBin(validFile({ keys: [{ ...key, transmissionRiskLevel: 2 ** 31 }] })),
      /transmission_risk_level/,
    );
  });

  it("fails on the first invalid key of a huge file, as it streams (issue 11, item 5)", () => {
    // 3 valid keys, then 200,000 whose key_data is 15 bytes: 19 bytes each on the wire, as in
    // the 59 MB export.bin of 3.1 M such keys that used to cost 1.5 GB before failing.
    const head = exportProto.TemporaryExposureKeyExport.encode(
      rawFile({ keys: [rawKey(), rawKey(), rawKey()] }),
    ).finish();
    const bad = protobuf.Writer.create()
      .uint32((7 << 3) | 2)
      .fork()
      .uint32((1 << 3) | 2)
      .bytes(new Uint8Array(15).fill(9))
      .ldelim()
      .finish();
    const count = 200_000;
    const bin = new Uint8Array(HEADER.length + head.length + bad.length * count);
    bin.set(HEADER);
    bin.set(head, HEADER.length);
    for (let i = 0, at = HEADER.length + head.length; i < count; i++, at += bad.length)
      bin.set(bad, at);
    expectKeyFileError(
      () => decodeExportBin(bin, "big.bin"),
      /^big\.bin: keys\[3\]: key_data is 15 bytes, must be 16$/,
      "E_KEY_FILE_INVALID",
    );
    // What follows the first invalid key is never decoded: a corrupt tail changes nothing.
    const tail = bin.slice(0, HEADER.length + head.length + bad.length * 2 + 3);
    tail.fill(0xff, tail.length - bad.length);
    expectKeyFileError(() => decodeExportBin(tail), /keys\[3\]: key_data is 15 bytes/);
  });

  it("refuses more signature_infos than MAX_SIGNATURE_INFOS (2 bytes each on the wire)", () => {
    const infos = Array.from({ length: MAX_SIGNATURE_INFOS + 1 }, () => ({}));
    expectKeyFileError(
      () => decodeExportBin(rawExportBin(rawFile({ signatureInfos: infos }))),
      /more than 1000 signature_infos/,
      "E_KEY_FILE_INVALID",
    );
    const most = decodeExportBin(rawExportBin(rawFile({ signatureInfos: infos.slice(1) })));
    expect(most.signatureInfos).toHaveLength(MAX_SIGNATURE_INFOS);
  });

  it("reads SignatureInfo fields 1-2 of old files as absent", () => {
    const oldInfo = protobuf.Writer.create()
      .uint32((1 << 3) | 2)
      .string("gov.example.app")
      .uint32((2 << 3) | 2)
      .string("com.example.app")
      .uint32((4 << 3) | 2)
      .string("310")
      .finish();
    const body = exportProto.TemporaryExposureKeyExport.encode(rawFile()).finish();
    const withInfo = protobuf.Writer.create()
      .uint32((6 << 3) | 2)
      .bytes(oldInfo)
      .finish();
    const file = decodeExportBin(new Uint8Array([...HEADER, ...body, ...withInfo]));
    expect(file.signatureInfos).toEqual([{ verificationKeyId: "310" }]);
  });
});

describe("export.sig", () => {
  it("round-trips", () => {
    const signatures: TekSignature[] = [
      {
        signatureInfo: {
          verificationKeyVersion: "v1",
          verificationKeyId: "310",
          signatureAlgorithm: ECDSA_P256_SHA256_OID,
        },
        batchNum: 1,
        batchSize: 1,
        signature: new Uint8Array([0x30, 0x06, 1, 2, 3, 4, 5, 6]),
      },
      { signatureInfo: {}, batchNum: 2, batchSize: 3, signature: new Uint8Array(0) },
    ];
    expect(decodeExportSig(encodeExportSig(signatures))).toEqual(signatures);
  });

  it("refuses a truncated one", () => {
    const sig = encodeExportSig([
      {
        signatureInfo: { verificationKeyId: "1" },
        batchNum: 1,
        batchSize: 1,
        signature: new Uint8Array(70),
      },
    ]);
    expectKeyFileError(
      () => decodeExportSig(sig.subarray(0, sig.length - 3)),
      /^export\.sig is truncated or corrupt/,
      "E_KEY_FILE_PROTOBUF",
    );
  });
});
