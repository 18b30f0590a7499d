import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { toHex } from "../../../src/core/hex.js";
import {
  decodeExportBin,
  exportKeyFile,
  parseDiagnosisKeysJsonl,
} from "../../../src/exposure/key-file/index.js";
import { inspectKeyFile } from "../../../src/io/inspect-key-file.js";
import { writeKeyFileZip } from "../../../src/io/key-file-archive.js";
import {
  BIN_200_KEYS,
  expectKeyFileError,
  REAL_FILES,
  makeKeys,
  SAMPLE_PUBLIC_KEY,
  SIGNED_ZIP,
} from "./fixtures.js";
import { describeWith } from "../../support/requirements.js";

const dir = mkdtempSync(join(tmpdir(), "proxkit-key-export-"));
const pair = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const signingKeyPem = pair.privateKey.export({ type: "pkcs8", format: "pem" }) as string;
const publicKey = pair.publicKey.export({ type: "spki", format: "der" }).toString("base64");
const options = {
  keys: makeKeys(14),
  region: "US",
  startTimestampS: 1_593_633_600,
  endTimestampS: 1_593_720_000,
  signingKeyPem,
  keyId: "310",
  keyVersion: "v1",
};

describeWith(REAL_FILES)("inspectKeyFile on the real files", () => {
  it("summarises the signed sample", () => {
    expect(inspectKeyFile(SIGNED_ZIP, { publicKey: SAMPLE_PUBLIC_KEY })).toEqual({
      region: "US",
      start: 1_593_633_600,
      end: 1_593_633_900,
      batch: [1, 1],
      keys: 140,
      signature: "valid",
    });
    expect(inspectKeyFile(SIGNED_ZIP).signature).toBe("unchecked");
  });

  it("summarises the unsigned 200-key export.bin", () => {
    expect(inspectKeyFile(BIN_200_KEYS, { publicKey: SAMPLE_PUBLIC_KEY })).toEqual({
      region: "US",
      start: 1_588_425_586,
      end: 1_588_857_586,
      batch: [1, 1],
      keys: 200,
      signature: "absent",
    });
  });
});

describe("exportKeyFile → inspectKeyFile", () => {
  const path = join(dir, "export.zip");
  const parts = exportKeyFile(options);
  writeKeyFileZip(path, parts);

  it("round-trips with a fresh P-256 key pair", () => {
    expect(inspectKeyFile(path, { publicKey })).toEqual({
      region: "US",
      start: 1_593_633_600,
      end: 1_593_720_000,
      batch: [1, 1],
      keys: 14,
      signature: "valid",
    });
    expect(inspectKeyFile(path).signature).toBe("unchecked");
    const other = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey;
    expect(
      inspectKeyFile(path, { publicKey: other.export({ type: "spki", format: "pem" }) as string })
        .signature,
    ).toBe("invalid");
  });

  it("sorts the keys by key data and keeps all their fields", () => {
    const file = decodeExportBin(parts.bin);
    const hex = file.keys.map((k) => toHex(k.keyData));
    expect(hex).toEqual([...hex].sort());
    const byHex = new Map(options.keys.map((k) => [toHex(k.keyData), k]));
    for (const key of file.keys) expect(key).toEqual(byHex.get(toHex(key.keyData)));
  });

  it("reports a changed key as an invalid signature", () => {
    const bin = parts.bin.slice();
    bin[bin.length - 20] ^= 0x01; // inside the last key's key_data
    const tampered = join(dir, "tampered.zip");
    writeKeyFileZip(tampered, { bin, sig: parts.sig });
    expect(inspectKeyFile(tampered, { publicKey }).signature).toBe("invalid");
  });

  it("says a file that no longer decodes was damaged or altered", () => {
    const bin = parts.bin.slice();
    bin[3] ^= 0x01; // the header
    const broken = join(dir, "broken.zip");
    writeKeyFileZip(broken, { bin, sig: parts.sig });
    expectKeyFileError(
      () => inspectKeyFile(broken, { publicKey }),
      /broken\.zip: export\.bin does not start with the header .*; its signature does not verify either, so the file was damaged or altered/,
    );
    expectKeyFileError(
      () => inspectKeyFile(broken),
      /does not start with the header "EK Export v1 {4}" \(found "EK Dxport v1 {4}"\)$/,
    );
  });

  it("refuses repeated keys, an empty region, a reversed window and bad keys", () => {
    const [key] = options.keys;
    expectKeyFileError(
      () => exportKeyFile({ ...options, keys: [key, ...options.keys] }),
      /keys: key [0-9a-f]{32} appears twice/,
    );
    expectKeyFileError(
      () => exportKeyFile({ ...options, region: " " }),
      /region must not be empty/,
    );
    expectKeyFileError(
      () => exportKeyFile({ ...options, endTimestampS: 0 }),
      /endTimestampS 0 is before startTimestampS/,
    );
    expectKeyFileError(
      () => exportKeyFile({ ...options, keys: [{ ...key, rollingPeriod: 0 }] }),
      /keys\[0\]: rolling_period 0 is outside 1\.\.144/,
    );
    expectKeyFileError(
      () => exportKeyFile({ ...options, batchNum: 2 }),
      /batch_num 2 is outside 1\.\.batch_size \(1\)/,
    );
  });
});

describe("parseDiagnosisKeysJsonl", () => {
  it("reads hex and base64 keys, defaults and report-type names", () => {
    const hex = "75c734c6dd1a782de7a965da5eb93125";
    const base64 = Buffer.from(hex, "hex").toString("base64");
    const text = [
      `{"key": "${hex}", "rollingStartIntervalNumber": 2642976, "rollingPeriod": 144}`,
      "",
      `{"key": "${base64}", "rollingStartIntervalNumber": 2642832, "rollingPeriod": 72, "transmissionRiskLevel": 4, "reportType": "CONFIRMED_TEST", "daysSinceOnsetOfSymptoms": -2}\r`,
      `{"key": "${base64.replace(/=+$/, "")}", "rollingStartIntervalNumber": 2642688, "reportType": 3}`,
    ].join("\n");
    const keys = parseDiagnosisKeysJsonl(text);
    expect(keys.map((k) => toHex(k.keyData))).toEqual([hex, hex, hex]);
    expect(keys[0]).toEqual({
      keyData: keys[0].keyData,
      rollingStartIntervalNumber: 2642976,
      rollingPeriod: 144,
    });
    expect(keys[1]).toMatchObject({
      rollingPeriod: 72,
      transmissionRiskLevel: 4,
      reportType: 1,
      daysSinceOnsetOfSymptoms: -2,
    });
    expect(keys[2]).toMatchObject({ rollingPeriod: 144, reportType: 3 });
  });

  it("names the file and line of every fault", () => {
    const good =
      '{"key": "75c734c6dd1a782de7a965da5eb93125", "rollingStartIntervalNumber": 2642976}';
    const cases: [string, RegExp][] = [
      ["{nope", /keys\.jsonl line 3: not valid JSON/],
      ["[1, 2]", /line 3: expected a JSON object/],
      [
        '{"key": "75c734c6dd1a782de7a965da5eb931", "rollingStartIntervalNumber": 1}',
        /line 3: "key" must be 32 hex digits or the base64 of 16 bytes/,
      ],
      ['{"rollingStartIntervalNumber": 1}', /line 3: "key" is missing or not a string/],
      [
        '{"key": "75c734c6dd1a782de7a965da5eb93125"}',
        /line 3: "rollingStartIntervalNumber" must be a whole number$/,
      ],
      [
        '{"key": "75c734c6dd1a782de7a965da5eb93125", "rollingStartIntervalNumber": "5"}',
        /"rollingStartIntervalNumber" must be a whole number, got "5"/,
      ],
      [
        '{"key": "75c734c6dd1a782de7a965da5eb93125", "rollingStartIntervalNumber": 1, "rollingPeriod": 145}',
        /line 3: rollingPeriod 145 is outside 1\.\.144/,
      ],
      [
        '{"key": "75c734c6dd1a782de7a965da5eb93125", "rollingStartIntervalNumber": 1, "reportType": "POSITIVE"}',
        /"reportType" "POSITIVE" is not one of UNKNOWN, CONFIRMED_TEST/,
      ],
      [
        '{"key": "75c734c6dd1a782de7a965da5eb93125", "rollingStartIntervalNumber": 1, "reportType": 9}',
        /line 3: reportType 9 is not one of 0\.\.5/,
      ],
      [
        '{"key": "75c734c6dd1a782de7a965da5eb93125", "rollingStart": 1}',
        /line 3: unknown field "rollingStart"/,
      ],
    ];
    for (const [line, message] of cases) {
      expectKeyFileError(
        () => parseDiagnosisKeysJsonl(`${good}\n\n${line}\n${good}`, "keys.jsonl"),
        message,
        "E_KEYS_JSONL",
      );
    }
  });

  it("feeds exportKeyFile", () => {
    const lines = options.keys.map((k) =>
      JSON.stringify({
        key: toHex(k.keyData),
        rollingStartIntervalNumber: k.rollingStartIntervalNumber,
      }),
    );
    const path = join(dir, "keys.jsonl");
    writeFileSync(path, `${lines.join("\n")}\n`);
    const keys = parseDiagnosisKeysJsonl(lines.join("\n"));
    const zip = join(dir, "from-jsonl.zip");
    writeKeyFileZip(zip, exportKeyFile({ ...options, keys }));
    expect(inspectKeyFile(zip, { publicKey })).toMatchObject({ keys: 14, signature: "valid" });
  });
});
