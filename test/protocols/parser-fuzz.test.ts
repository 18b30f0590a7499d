/**
 * Issue 11: every parser of outside input either returns or throws a ProxkitError — never a
 * TypeError, RangeError or other error, never a hang — on random bytes and text and on
 * mutations of valid input (bit flips, truncation, bytes inserted, length fields set huge).
 *
 * Parsers: BLE advertising data and its classification, the GAEN/DP-3T/Bluezone payload
 * decoders, GAEN key files (export.bin, export.sig, the zip), diagnosis keys as JSON lines,
 * btsnoop captures (records, HCI events, advertising reports), sightings, key-store JSON,
 * checkpoint configurations and the CLI's value parsers. Runs are bounded by count
 * (fast-check, fixed seed) and each parser call by time; the file takes a few seconds.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  classifyAdvertisement,
  decodeBluezoneManufacturerData,
  decodeDp3tServiceData,
  decodeGaenServiceData,
  encodeBluezoneAdvertisement,
  encodeDp3tAdvertisement,
  encodeGaenAdvertisement,
  parseAdvertisingData,
} from "../../src/ble/index.js";
import { validateCheckpointConfig } from "../../src/checkpoint/checkpoint-config.js";
import {
  maxMegabytes,
  parseDurationMs,
  parseInteger,
  parseIsoTimeMs,
  parseKey,
} from "../../src/cli/parse.js";
import { ProxkitError } from "../../src/core/errors.js";
import { fromHex } from "../../src/core/hex.js";
import { SeededRandom } from "../../src/core/random.js";
import {
  decodeExportBin,
  decodeExportSig,
  ECDSA_P256_SHA256_OID,
  encodeExportBin,
  encodeExportSig,
  parseDiagnosisKeysJsonl,
  unzipKeyFile,
  zipKeyFile,
} from "../../src/exposure/key-file/index.js";
import { decodeMetadata } from "../../src/protocols/gaen.js";
import { KeyStore } from "../../src/protocols/key-store.js";
import {
  BtsnoopDecoder,
  DATALINK_H4,
  DATALINK_HCI,
  DATALINK_MONITOR,
  hciPacketOf,
  MONITOR,
} from "../../src/radio/replay/btsnoop.js";
import { btsnoopHeader, btsnoopRecord } from "../../src/radio/replay/btsnoop-writer.js";
import { CaptureSightingDecoder } from "../../src/radio/replay/capture-sightings.js";
import {
  encodeAdvertisingReportEvent,
  encodeExtendedAdvertisingReportEvent,
  forEachAdvertisingReport,
} from "../../src/radio/replay/hci-events.js";
import { parseSighting } from "../../src/signal/sighting.js";

const SEED = 20_261_206;
/** Runs per property; PROXKIT_FUZZ_RUNS raises it for a longer hunt. */
const RUNS = Number(process.env.PROXKIT_FUZZ_RUNS ?? 1000);
/** Longest one parser call may take on inputs of a few KB. */
const MAX_CALL_MS = 1000;

/** Calls `parse`; passes when it returns or throws a ProxkitError, quickly. */
const outcomes = { returned: 0, refused: 0 };
function attempt(parse: () => unknown): void {
  const startMs = performance.now();
  try {
    parse();
    outcomes.returned++;
  } catch (error) {
    outcomes.refused++;
    if (!(error instanceof ProxkitError))
      throw new Error(`not a ProxkitError: ${(error as Error)?.stack ?? String(error)}`);
  }
  expect(performance.now() - startMs).toBeLessThan(MAX_CALL_MS);
}

const random = new SeededRandom(7);
const bytes = (n: number) => random.bytes(n);

// ---------------------------------------------------------------- byte mutations

/** One change to `valid`: a bit flip, a byte set (0, 0xff, random), a cut, an insert, a splice. */
const mutation = (valid: Uint8Array): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    fc
      .tuple(fc.nat(Math.max(0, valid.length - 1)), fc.integer({ min: 0, max: 7 }))
      .map(([at, bit]) => {
        const out = valid.slice();
        if (out.length > 0) out[at] ^= 1 << bit;
        return out;
      }),
    fc
      .tuple(fc.nat(Math.max(0, valid.length - 1)), fc.constantFrom(0x00, 0xff, 0x7f, 0x80))
      .map(([at, value]) => {
        const out = valid.slice();
        if (out.length > 0) out[at] = value;
        return out;
      }),
    // Length fields set huge: four 0xff bytes anywhere.
    fc.nat(Math.max(0, valid.length - 4)).map((at) => {
      const out = valid.slice();
      out.fill(0xff, at, Math.min(out.length, at + 4));
      return out;
    }),
    fc.nat(valid.length).map((cut) => valid.slice(0, cut)),
    fc
      .tuple(fc.nat(valid.length), fc.uint8Array({ minLength: 1, maxLength: 16 }))
      .map(([at, extra]) => new Uint8Array([...valid.slice(0, at), ...extra, ...valid.slice(at)])),
    fc
      .tuple(fc.nat(valid.length), fc.nat(valid.length))
      .map(
        ([a, b]) =>
          new Uint8Array([...valid.slice(0, Math.min(a, b)), ...valid.slice(Math.max(a, b))]),
      ),
  );

/** Random bytes, and mutations (one to three) of each valid input. */
function bytesLike(valids: Uint8Array[], maxLength = 300): fc.Arbitrary<Uint8Array> {
  const mutated = valids.map((valid) =>
    fc
      .array(fc.constant(null), { minLength: 1, maxLength: 3 })
      .chain((steps) =>
        steps.reduce<fc.Arbitrary<Uint8Array>>(
          (arb) => arb.chain((b) => mutation(b)),
          fc.constant(valid),
        ),
      ),
  );
  return fc.oneof(fc.uint8Array({ maxLength }), ...mutated);
}

function fuzzBytes(
  valids: Uint8Array[],
  parse: (input: Uint8Array) => unknown,
  runs = RUNS,
  maxLength?: number,
): void {
  for (const valid of valids) attempt(() => parse(valid));
  fc.assert(
    fc.property(bytesLike(valids, maxLength), (input) => attempt(() => parse(input))),
    { seed: SEED, numRuns: runs },
  );
}

// ---------------------------------------------------------------- text mutations

/** Random JSON-ish text, and mutations of valid text: cut, characters replaced, values swapped. */
function textLike(valids: string[]): fc.Arbitrary<string> {
  const nasty = fc.constantFrom(
    "",
    "null",
    "[]",
    "{}",
    "-1",
    "1e308",
    "-1e308",
    "NaN",
    '"x"',
    "true",
    `"${"f".repeat(4000)}"`,
    "9007199254740993",
    '{"__proto__": {"x": 1}}',
  );
  const mutated = valids.map((valid) =>
    fc.oneof(
      fc.nat(valid.length).map((cut) => valid.slice(0, cut)),
      fc
        .tuple(fc.nat(Math.max(0, valid.length - 1)), fc.string({ maxLength: 4 }))
        .map(([at, s]) => valid.slice(0, at) + s + valid.slice(at + 1)),
      // A value replaced: the n-th number, string, true/false/null becomes something nasty.
      fc.tuple(fc.nat(40), nasty).map(([n, value]) => {
        let i = 0;
        return valid.replace(/-?\d+(\.\d+)?(e-?\d+)?|"[^"]*"|true|false|null/g, (m) =>
          i++ === n ? value : m,
        );
      }),
    ),
  );
  return fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 3 }), nasty, ...mutated);
}

function fuzzText(valids: string[], parse: (input: string) => unknown, runs = RUNS): void {
  for (const valid of valids) attempt(() => parse(valid));
  fc.assert(
    fc.property(textLike(valids), (input) => attempt(() => parse(input))),
    { seed: SEED, numRuns: runs },
  );
}

/** JSON-parsed input: text that is not JSON is the caller's (SyntaxError) to report. */
function fuzzJson(valids: unknown[], parse: (doc: unknown) => unknown, runs = RUNS): void {
  fuzzText(
    valids.map((v) => JSON.stringify(v)),
    (text) => {
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch {
        return;
      }
      return parse(doc);
    },
    runs,
  );
}

// ---------------------------------------------------------------- the parsers

describe("BLE advertising data", () => {
  const ads = [
    encodeGaenAdvertisement(bytes(16), bytes(4)),
    encodeDp3tAdvertisement(bytes(16)),
    encodeBluezoneAdvertisement(bytes(12)),
    Uint8Array.from([0x02, 0x01, 0x1a, 0x05, 0x09, 0x61, 0x62, 0x63, 0x64, 0x02, 0x0a, 0xf4]),
  ];

  it("parseAdvertisingData and classifyAdvertisement, legacy and extended", () => {
    fuzzBytes(ads, (b) => parseAdvertisingData(b));
    fuzzBytes(ads, (b) => classifyAdvertisement(b));
    fuzzBytes(ads, (b) => classifyAdvertisement(b, { extended: true }), RUNS, 300);
  });

  it("the payload decoders and GAEN metadata", () => {
    fuzzBytes([bytes(20)], (b) => decodeGaenServiceData(b, 3), 100, 40);
    fuzzBytes([bytes(16)], (b) => decodeDp3tServiceData(b, 3), 100, 40);
    fuzzBytes([bytes(12)], (b) => decodeBluezoneManufacturerData(b, 3), 100, 40);
    fuzzBytes([Uint8Array.from([0x40, 0xe8, 0, 0])], (b) => decodeMetadata(b), 100, 8);
  });
});

describe("GAEN key files", () => {
  const keys = Array.from({ length: 4 }, (_, i) => ({
    keyData: bytes(16),
    rollingStartIntervalNumber: 2_653_776 + 144 * i,
    rollingPeriod: 144,
    transmissionRiskLevel: i,
    reportType: 1,
    daysSinceOnsetOfSymptoms: i - 2,
  }));
  const bin = encodeExportBin({
    startTimestampS: 1_593_633_600,
    endTimestampS: 1_593_720_000,
    region: "US",
    batchNum: 1,
    batchSize: 1,
    signatureInfos: [
      {
        verificationKeyId: "310",
        verificationKeyVersion: "v1",
        signatureAlgorithm: ECDSA_P256_SHA256_OID,
      },
    ],
    keys,
    revisedKeys: keys.slice(0, 1),
  });
  const sig = encodeExportSig([
    {
      signatureInfo: { verificationKeyId: "310", verificationKeyVersion: "v1" },
      batchNum: 1,
      batchSize: 1,
      signature: bytes(70),
    },
  ]);

  it("export.bin and export.sig", () => {
    fuzzBytes([bin], (b) => decodeExportBin(b), RUNS, 400);
    fuzzBytes([sig], (b) => decodeExportSig(b), RUNS, 200);
  });

  it("the zip", () => {
    const zip = zipKeyFile({ bin, sig });
    fuzzBytes([zip], (b) => {
      const parts = unzipKeyFile(b, { maxBytes: 64 * 1024 });
      return decodeExportBin(parts.bin);
    });
  });

  it("diagnosis keys as JSON lines", () => {
    const line = JSON.stringify({
      key: "00112233445566778899aabbccddeeff",
      rollingStartIntervalNumber: 2_653_776,
      rollingPeriod: 144,
      transmissionRiskLevel: 2,
      reportType: 1,
    });
    fuzzText([line, `${line}\n${line.replace("00", "11")}\n`], (t) => parseDiagnosisKeysJsonl(t));
  });
});

describe("btsnoop captures", () => {
  const at = Date.UTC(2026, 0, 1);
  const report = (data: Uint8Array) => ({
    address: bytes(6),
    addressType: 1,
    rssiDbm: -60,
    txPowerDbm: 5,
    data,
  });
  const legacy = encodeAdvertisingReportEvent([
    report(encodeGaenAdvertisement(bytes(16), bytes(4))),
    report(encodeDp3tAdvertisement(bytes(16))),
  ]);
  const extended = encodeExtendedAdvertisingReportEvent([
    report(encodeBluezoneAdvertisement(bytes(12))),
  ]);
  const captures = [
    new Uint8Array([
      ...btsnoopHeader(DATALINK_MONITOR),
      ...btsnoopRecord(at, MONITOR.eventPacket, legacy),
      ...btsnoopRecord(at + 1000, (1 << 16) | MONITOR.eventPacket, extended),
    ]),
    new Uint8Array([
      ...btsnoopHeader(DATALINK_H4),
      ...btsnoopRecord(at, 1, new Uint8Array([0x04, ...legacy])),
    ]),
    new Uint8Array([...btsnoopHeader(DATALINK_HCI), ...btsnoopRecord(at, 3, extended)]),
  ];

  /** A whole capture through the decoders, pushed in chunks of `chunk` bytes. */
  const decodeCapture = (input: Uint8Array, chunk: number) => {
    const sightings = new CaptureSightingDecoder(() => {}, undefined, {
      wallClockMs: () => at,
    });
    const decoder = new BtsnoopDecoder((record) =>
      sightings.record(record, decoder.datalink as number),
    );
    for (let i = 0; i < input.length; i += chunk) decoder.push(input.subarray(i, i + chunk));
    decoder.finish();
    return sightings.counts;
  };

  it("records, HCI events and advertising reports", () => {
    fuzzBytes(captures, (b) => decodeCapture(b, 4096), RUNS, 600);
    fuzzBytes(captures, (b) => decodeCapture(b, 7), 100, 600);
  });

  it("HCI events alone", () => {
    fuzzBytes([legacy, extended], (b) => forEachAdvertisingReport(b, 0, () => {}));
    fuzzBytes([legacy], (b) =>
      hciPacketOf(DATALINK_H4, {
        offset: 0,
        originalLength: b.length,
        flags: 0,
        drops: 0,
        unixUs: at * 1000,
        data: b,
      }),
    );
  });
});

describe("JSON documents", () => {
  it("sightings", () => {
    const lines = [
      '{"t": 1782000000, "protocol": "gaen", "rpi": "00112233445566778899aabbccddeeff", "aem": "01020304", "rssi": -60}',
      '{"t": 1782000000.5, "protocol": "dp3t", "ephid": "00112233445566778899aabbccddeeff", "rssi": -70, "tx": 8, "channel": 37}',
      '{"t": 1782000000, "protocol": "bluezone", "id": "00112233445566778899aabb", "rssi": -80}',
    ];
    fuzzText(lines, (line) => parseSighting(line, "line 1"));
  });

  it("key stores", () => {
    const stores = (["gaen", "dp3t", "bluezone"] as const).map((protocol) => {
      const store = new KeyStore(protocol);
      store.ensureCurrent(Date.UTC(2026, 11, 6), new SeededRandom(1));
      store.ensureCurrent(Date.UTC(2026, 11, 7), new SeededRandom(2));
      return store.toJson();
    });
    fuzzJson(stores, (doc) => KeyStore.fromJson(doc));
  });

  it("checkpoint configurations", () => {
    const config = {
      site: "library",
      checkpoint: "door-1",
      mqtt: "mqtt://collector:1883",
      protocols: ["gaen", "bluezone"],
      scan: { windowMs: 4000, intervalMs: 10_000 },
      scanPeriodS: 120,
      retentionDays: 14,
      research: true,
      storeAddresses: false,
      beacon: { protocol: "gaen", intervalMs: 250, txPowerDbm: -8 },
      hci: 1,
      rxRssiCorrectionDb: 3,
    };
    fuzzJson([config, { scanPeriodS: 0 }], (doc) => validateCheckpointConfig(doc));
  });
});

afterAll(() => {
  if (process.env.PROXKIT_FUZZ_RUNS) console.log(outcomes);
});

describe("CLI values", () => {
  it("hex, keys, times, durations, integers, sizes", () => {
    const values = [
      "00112233445566778899aabbccddeeff",
      "2026-12-06T10:00:00Z",
      "90s",
      "64",
      "1.5h",
    ];
    fuzzText(values, (text) => {
      for (const parse of [
        () => fromHex(text, "--key"),
        () => fromHex(text, "--key", 16),
        () => parseKey(text, "--key", 16, true),
        () => parseIsoTimeMs(text),
        () => parseDurationMs(text, "--duration"),
        () => parseInteger(text, "--count", 1, 1000),
        () => maxMegabytes(Number(text)),
      ])
        attempt(parse);
    });
  });
});
