import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AdStructure,
  encodeAdvertisingData,
  parseAdvertisingData,
} from "../../src/ble/advertising-data.js";
import { CodecError } from "../../src/core/errors.js";
import { fromHex, toHex } from "../../src/core/hex.js";
import { GAEN_CRYPTO_V1_2 as V } from "../vectors/gaen-crypto-v1.2.js";
import { expectCodecError } from "./expect-codec-error.js";

const parseHex = (hex: string, extended = false) =>
  parseAdvertisingData(fromHex(hex), { extended });
const encodeHex = (structures: AdStructure[], extended = false) =>
  toHex(encodeAdvertisingData(structures, { extended }));

describe("parseAdvertisingData", () => {
  it("parses the official GAEN advertisement", () => {
    expect(parseHex(V.advertisement)).toEqual([
      { type: "flags", flags: 0x1a },
      { type: "serviceUuids16", complete: true, uuids: [0xfd6f] },
      {
        type: "serviceData16",
        uuid: 0xfd6f,
        data: fromHex(V.intervals[0].rpi + V.intervals[0].aem),
      },
    ]);
  });

  it("parses every typed structure", () => {
    // A 128-bit UUID is little-endian on air: the Bluetooth base UUID with 0xfd6f.
    const uuid128 = "fb349b5f80000080001000006ffd0000";
    const hex =
      "020106" + // flags
      "0502" +
      "0f180a18" + // incomplete 16-bit: 0x180f, 0x180a
      "1107" +
      uuid128 + // complete 128-bit
      "0408" +
      "616263" + // shortened name "abc"
      "0609" +
      "c3a9e282ac" + // complete name "é€"
      "020af4" + // TX power -12
      "0516" +
      "0f18" +
      "6400" + // service data 0x180f
      "05ff" +
      "4c00" +
      "0215"; // Apple
    expect(parseHex(hex, true)).toEqual([
      { type: "flags", flags: 6 },
      { type: "serviceUuids16", complete: false, uuids: [0x180f, 0x180a] },
      { type: "serviceUuids128", complete: true, uuids: ["0000fd6f-0000-1000-8000-00805f9b34fb"] },
      { type: "localName", complete: false, name: "abc" },
      { type: "localName", complete: true, name: "é€" },
      { type: "txPower", txPowerDbm: -12 },
      { type: "serviceData16", uuid: 0x180f, data: fromHex("6400") },
      { type: "manufacturerData", companyId: 0x004c, data: fromHex("0215") },
    ]);
    expect(encodeHex(parseHex(hex, true), true)).toBe(hex);
  });

  it("keeps other AD types, and names that are not UTF-8, as raw bytes", () => {
    expect(parseHex("03190000" + "0208c3")).toEqual([
      { type: "other", adType: 0x19, data: fromHex("0000") },
      { type: "other", adType: 0x08, data: fromHex("c3") },
    ]);
  });

  it("allows empty lists, names and manufacturer data bodies", () => {
    expect(parseHex("0103" + "0109" + "03ff3412")).toEqual([
      { type: "serviceUuids16", complete: true, uuids: [] },
      { type: "localName", complete: true, name: "" },
      { type: "manufacturerData", companyId: 0x1234, data: new Uint8Array(0) },
    ]);
  });

  it("returns an empty list for empty input and for zero padding", () => {
    expect(parseAdvertisingData(new Uint8Array(0))).toEqual([]);
    expect(parseAdvertisingData(new Uint8Array(31))).toEqual([]);
    expect(parseHex("020106000000")).toEqual([{ type: "flags", flags: 6 }]);
  });

  it("returns views into the input", () => {
    const bytes = fromHex(V.advertisement);
    const [, , serviceData] = parseAdvertisingData(bytes);
    expect(serviceData.type === "serviceData16" && serviceData.data.buffer).toBe(bytes.buffer);
  });

  it.each([
    ["truncated structure", "020106" + "05ff0102", 3, /truncated/],
    ["length byte alone", "020106" + "03", 3, /truncated/],
    [
      "length running past a GAEN advertisement",
      `02011a03036ffd18166ffd${"00".repeat(20)}`,
      7,
      /truncated/,
    ],
    [
      "zero length then a non-zero byte",
      "020106" + "00" + "0201",
      3,
      /zero padding, which must run to the end, but byte 4 is 0x02/,
    ],
    ["zero length then garbage after zeros", "00000001", 0, /padding/],
    ["flags of 2 bytes", "0301" + "0600", 0, /flags must be 1 byte/],
    ["flags of 0 bytes", "020106" + "0101", 3, /flags must be 1 byte/],
    ["odd 16-bit UUID list", "020106" + "04036ffd00", 3, /odd length/],
    ["odd complete 16-bit UUID list", "0202" + "00", 0, /odd length/],
    ["128-bit list of 15 bytes", `1006${"00".repeat(15)}`, 0, /multiple of 16/],
    ["service data of 1 byte", "020106" + "02166f", 3, /at least 2 bytes/],
    ["service data of 0 bytes", "0116", 0, /at least 2 bytes/],
    ["TX power of 2 bytes", "030a0000", 0, /TX power level must be 1 byte/],
    ["TX power of 0 bytes", "010a", 0, /TX power level must be 1 byte/],
    ["manufacturer data of 1 byte", "020106" + "02ff4c", 3, /at least 2 bytes/],
  ])("rejects %s with its offset", (_name, hex, offset, message) => {
    expectCodecError(() => parseHex(hex, true), offset, message);
  });

  it("limits legacy data to 31 bytes and extended data to 254", () => {
    const name = (bytes: number) =>
      fromHex(`${(bytes - 1).toString(16).padStart(2, "0")}09${"61".repeat(bytes - 2)}`);
    expect(parseAdvertisingData(name(31))).toHaveLength(1);
    expectCodecError(
      () => parseAdvertisingData(name(32)),
      31,
      /32 bytes, more than the legacy maximum of 31/,
    );
    expect(parseAdvertisingData(name(32), { extended: true })).toHaveLength(1);
    const extended = new Uint8Array(254);
    expect(parseAdvertisingData(extended, { extended: true })).toEqual([]);
    expectCodecError(
      () => parseAdvertisingData(new Uint8Array(255), { extended: true }),
      254,
      /extended maximum of 254/,
    );
  });
});

describe("encodeAdvertisingData", () => {
  it("encodes the official GAEN advertisement", () => {
    const hex = encodeHex([
      { type: "flags", flags: 0x1a },
      { type: "serviceUuids16", complete: true, uuids: [0xfd6f] },
      {
        type: "serviceData16",
        uuid: 0xfd6f,
        data: fromHex(V.intervals[0].rpi + V.intervals[0].aem),
      },
    ]);
    expect(hex).toBe(V.advertisement);
  });

  it("accepts upper-case 128-bit UUIDs and writes them little-endian", () => {
    const uuid = "B82AB3FC-1595-4F6A-80F0-FE094CC218F9";
    const hex = encodeHex([{ type: "serviceUuids128", complete: false, uuids: [uuid] }]);
    expect(hex).toBe("1106f918c24c09fef0806a4f9515fcb32ab8");
    expect(parseHex(hex)).toEqual([
      { type: "serviceUuids128", complete: false, uuids: [uuid.toLowerCase()] },
    ]);
  });

  it.each<[string, AdStructure, RegExp]>([
    ["flags out of range", { type: "flags", flags: 256 }, /not a byte/],
    [
      "a 17-bit UUID",
      { type: "serviceUuids16", complete: true, uuids: [0x10000] },
      /not a 16-bit UUID/,
    ],
    [
      "a malformed 128-bit UUID",
      { type: "serviceUuids128", complete: true, uuids: ["fd6f"] },
      /not a UUID/,
    ],
    [
      "a 128-bit UUID with a misplaced dash",
      { type: "serviceUuids128", complete: true, uuids: ["0000fd6f0-000-1000-8000-00805f9b34fb"] },
      /not a UUID/,
    ],
    ["TX power out of int8", { type: "txPower", txPowerDbm: 128 }, /not an int8/],
    [
      "a fractional UUID",
      { type: "serviceData16", uuid: 1.5, data: new Uint8Array(0) },
      /not a 16-bit UUID/,
    ],
    [
      "a negative company id",
      { type: "manufacturerData", companyId: -1, data: new Uint8Array(0) },
      /company id/,
    ],
    [
      "an AD type over 255",
      { type: "other", adType: 0x100, data: new Uint8Array(0) },
      /not a byte/,
    ],
    [
      "raw flags the parser would reject",
      { type: "other", adType: 0x01, data: new Uint8Array(2) },
      /flags must be 1 byte/,
    ],
  ])("rejects %s", (_name, structure, message) => {
    expectCodecError(
      () => encodeAdvertisingData([structure], { extended: true }),
      undefined,
      message,
    );
  });

  it("rejects data over the legacy or extended maximum", () => {
    const name = (length: number): AdStructure => ({
      type: "localName",
      complete: true,
      name: "a".repeat(length),
    });
    expect(encodeAdvertisingData([name(29)])).toHaveLength(31);
    expectCodecError(() => encodeAdvertisingData([name(30)]), undefined, /legacy maximum of 31/);
    expect(encodeAdvertisingData([name(30)], { extended: true })).toHaveLength(32);
    expect(encodeAdvertisingData([name(252)], { extended: true })).toHaveLength(254);
    expectCodecError(
      () => encodeAdvertisingData([name(253)], { extended: true }),
      undefined,
      /extended maximum of 254/,
    );
  });
});

const TYPED = [0x01, 0x02, 0x03, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x16, 0xff];

/** Well-formed AD structures as bytes: known and unknown types with bodies of valid sizes. */
const wellFormedStructure = fc
  .oneof(
    fc
      .constantFrom(0x01, 0x0a)
      .chain((adType) =>
        fc.tuple(fc.constant(adType), fc.uint8Array({ minLength: 1, maxLength: 1 })),
      ),
    fc.constantFrom(0x02, 0x03).chain((adType) =>
      fc.tuple(
        fc.constant(adType),
        fc.uint8Array({ maxLength: 8 }).map((b) => b.subarray(0, b.length & ~1)),
      ),
    ),
    fc.constantFrom(0x06, 0x07).chain((adType) =>
      fc.tuple(
        fc.constant(adType),
        fc.uint8Array({ maxLength: 32 }).map((b) => b.subarray(0, b.length & ~15)),
      ),
    ),
    fc
      .constantFrom(0x16, 0xff)
      .chain((adType) =>
        fc.tuple(fc.constant(adType), fc.uint8Array({ minLength: 2, maxLength: 24 })),
      ),
    fc.tuple(
      fc.constantFrom(0x08, 0x09),
      fc.oneof(
        fc.uint8Array({ maxLength: 12 }),
        fc.string({ unit: "grapheme", maxLength: 6 }).map((s) => new TextEncoder().encode(s)),
      ),
    ),
    fc.tuple(
      fc.integer({ min: 0, max: 255 }).filter((adType) => !TYPED.includes(adType)),
      fc.uint8Array({ maxLength: 12 }),
    ),
  )
  .map(([adType, body]) => Uint8Array.of(body.length + 1, adType, ...body));

const concat = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => Array.from(p)));

/** Well-formed advertising data, possibly with trailing zero padding, and the length without it. */
const wellFormedData = fc
  .tuple(fc.array(wellFormedStructure, { maxLength: 12 }), fc.nat({ max: 8 }))
  .map(([structures, padding]) => {
    const data = concat(structures);
    return { bytes: concat([data, new Uint8Array(padding)]), significantBytes: data.length };
  })
  .filter(({ bytes }) => bytes.length <= 254);

/** Where zero padding starts (the first zero length byte), or the end. */
function significantLength(bytes: Uint8Array): number {
  let at = 0;
  while (at < bytes.length && bytes[at] !== 0) at += bytes[at] + 1;
  return Math.min(at, bytes.length);
}

describe("advertising data properties", () => {
  it("any byte string parses or throws a CodecError, legacy and extended", () => {
    const anyBytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      // Mutated well-formed data reaches the body checks more often than noise does.
      fc
        .tuple(wellFormedData, fc.nat(), fc.integer({ min: 0, max: 255 }))
        .map(([{ bytes }, at, value]) => {
          const copy = bytes.slice();
          if (copy.length > 0) copy[at % copy.length] = value;
          return copy;
        }),
    );
    fc.assert(
      fc.property(anyBytes, fc.boolean(), (bytes, extended) => {
        try {
          const structures = parseAdvertisingData(bytes, { extended });
          expect(Array.isArray(structures)).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(CodecError);
          const offset = (error as CodecError).offset;
          expect(offset === undefined || (offset >= 0 && offset <= bytes.length)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("encode(parse(x)) is x without its zero padding", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          wellFormedData.map(({ bytes }) => bytes),
          fc.uint8Array({ maxLength: 254 }),
        ),
        (bytes) => {
          let structures: AdStructure[];
          try {
            structures = parseAdvertisingData(bytes, { extended: true });
          } catch {
            return; // Only data that parses must round-trip.
          }
          const encoded = encodeAdvertisingData(structures, { extended: true });
          expect(toHex(encoded)).toBe(toHex(bytes.subarray(0, significantLength(bytes))));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("well-formed data always parses, padding and all", () => {
    fc.assert(
      fc.property(wellFormedData, ({ bytes, significantBytes }) => {
        const structures = parseAdvertisingData(bytes, { extended: true });
        expect(encodeAdvertisingData(structures, { extended: true })).toEqual(
          bytes.subarray(0, significantBytes),
        );
      }),
      { numRuns: 500 },
    );
  });
});
