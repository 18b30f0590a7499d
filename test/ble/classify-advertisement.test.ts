import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeAdvertisingData } from "../../src/ble/advertising-data.js";
import { encodeBluezoneAdvertisement } from "../../src/ble/bluezone-advertisement.js";
import {
  advertisementToJson,
  type ClassifiedAdvertisement,
  classifyAdvertisement,
} from "../../src/ble/classify-advertisement.js";
import { encodeDp3tAdvertisement } from "../../src/ble/dp3t-advertisement.js";
import { encodeGaenAdvertisement } from "../../src/ble/gaen-advertisement.js";
import { fromHex, toHex } from "../../src/core/hex.js";
import { GAEN_CRYPTO_V1_2 as V } from "../vectors/gaen-crypto-v1.2.js";
import { expectCodecError } from "./expect-codec-error.js";

const classifyHex = (hex: string) => classifyAdvertisement(fromHex(hex), { extended: true });
const idOf = (c: ClassifiedAdvertisement) =>
  c.protocol === "gaen"
    ? toHex(c.rpi)
    : c.protocol === "dp3t"
      ? toHex(c.ephid)
      : c.protocol === "bluezone"
        ? toHex(c.id)
        : undefined;

describe("classifyAdvertisement", () => {
  it("finds the RPI and AEM of the official GAEN advertisement", () => {
    const c = classifyAdvertisement(fromHex(V.advertisement));
    expect(c.protocol).toBe("gaen");
    if (c.protocol !== "gaen") return;
    expect(toHex(c.rpi)).toBe(V.intervals[0].rpi);
    expect(toHex(c.aem)).toBe(V.intervals[0].aem);
    expect(c.structures).toHaveLength(3);
  });

  it("recognises real-world variants by content", () => {
    const payload = V.intervals[0].rpi + V.intervals[0].aem;
    // Other flags, no UUID list, a name and TX power first.
    expect(idOf(classifyHex(`0201060409616263020af417166ffd${payload}`))).toBe(V.intervals[0].rpi);
    expect(classifyHex(`17166ffd${payload}`).protocol).toBe("gaen");
    // Bluezone recognised by the manufacturer data alone, and after other structures.
    expect(idOf(classifyHex("05ff4c000215" + "0fffb522" + "0102030405060708090a0b0c"))).toBe(
      "0102030405060708090a0b0c",
    );
    expect(classifyHex(`131668fd${"00".repeat(16)}`).protocol).toBe("dp3t");
  });

  it("says unknown for other advertisements", () => {
    expect(classifyHex("0201060aff4c001005031c2d3e4f").protocol).toBe("unknown");
    expect(classifyHex("").protocol).toBe("unknown");
    // Company 0x22B5 with another length, and no Bluezone UUID: somebody else's data.
    expect(classifyHex("07ffb52201020304").protocol).toBe("unknown");
    // Other service data, and the GAEN UUID listed without service data.
    expect(classifyHex("03036ffd" + "05160f186400").protocol).toBe("unknown");
  });

  it("rejects GAEN service data of the wrong length at its structure's offset", () => {
    const bytes = encodeGaenAdvertisement(fromHex(V.intervals[0].rpi), fromHex(V.intervals[0].aem));
    const short = bytes.slice(0, 30);
    short[7] = 0x16; // the service data structure now holds 19 bytes of data
    expectCodecError(
      () => classifyAdvertisement(short),
      7,
      /GAEN service data .* 20 bytes .* got 19/,
    );
    expectCodecError(() => classifyHex("020106" + "05166ffd0102"), 3, /got 2/);
  });

  it("rejects DP-3T service data of the wrong length", () => {
    expectCodecError(
      () => classifyHex(`0201060d1668fd${"00".repeat(10)}`),
      3,
      /16-byte EphID, got 10/,
    );
  });

  it("rejects Bluezone manufacturer data of the wrong length next to the Bluezone UUID", () => {
    expectCodecError(
      () => classifyHex(`02010610ffb522${"00".repeat(13)}0303564e`),
      3,
      /12-byte ID, got 13/,
    );
  });

  it("passes parse errors through", () => {
    expectCodecError(() => classifyHex("05ff0102"), 0, /truncated/);
  });
});

describe("advertisementToJson", () => {
  it("prints the official GAEN advertisement tidily", () => {
    const json = advertisementToJson(classifyAdvertisement(fromHex(V.advertisement)));
    expect(json).toEqual({
      protocol: "gaen",
      rpi: V.intervals[0].rpi,
      aem: V.intervals[0].aem,
      structures: [
        { type: "flags", flags: 26 },
        { type: "serviceUuids16", complete: true, uuids: ["fd6f"] },
        { type: "serviceData16", uuid: "fd6f", data: V.intervals[0].rpi + V.intervals[0].aem },
      ],
    });
    expect(Object.keys(json)).toEqual(["protocol", "rpi", "aem", "structures"]);
  });

  it("prints every structure type", () => {
    const bytes = encodeAdvertisingData(
      [
        { type: "serviceUuids16", complete: false, uuids: [0x000a] },
        {
          type: "serviceUuids128",
          complete: true,
          uuids: ["b82ab3fc-1595-4f6a-80f0-fe094cc218f9"],
        },
        { type: "localName", complete: true, name: "pk" },
        { type: "txPower", txPowerDbm: -8 },
        { type: "manufacturerData", companyId: 0x22b5, data: fromHex("0102030405060708090a0b0c") },
        { type: "other", adType: 0x19, data: fromHex("4000") },
      ],
      { extended: true },
    );
    expect(advertisementToJson(classifyAdvertisement(bytes, { extended: true }))).toEqual({
      protocol: "bluezone",
      id: "0102030405060708090a0b0c",
      structures: [
        { type: "serviceUuids16", complete: false, uuids: ["000a"] },
        {
          type: "serviceUuids128",
          complete: true,
          uuids: ["b82ab3fc-1595-4f6a-80f0-fe094cc218f9"],
        },
        { type: "localName", complete: true, name: "pk" },
        { type: "txPower", txPowerDbm: -8 },
        { type: "manufacturerData", companyId: 8885, data: "0102030405060708090a0b0c" },
        { type: "other", adType: 25, data: "4000" },
      ],
    });
  });

  it("prints DP-3T and unknown advertisements", () => {
    const ephid = "f77d10b0db9376d6143ea3764f909fd5";
    expect(
      advertisementToJson(classifyAdvertisement(encodeDp3tAdvertisement(fromHex(ephid)))),
    ).toMatchObject({ protocol: "dp3t", ephid });
    expect(JSON.stringify(advertisementToJson(classifyHex("020106")))).toBe(
      '{"protocol":"unknown","structures":[{"type":"flags","flags":6}]}',
    );
  });
});

describe("encode → classify round trip (property)", () => {
  it("recovers every protocol's ID", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        (id16, aem, id12) => {
          const gaen = classifyAdvertisement(encodeGaenAdvertisement(id16, aem));
          expect(gaen.protocol === "gaen" && [toHex(gaen.rpi), toHex(gaen.aem)]).toEqual([
            toHex(id16),
            toHex(aem),
          ]);
          const dp3t = classifyAdvertisement(encodeDp3tAdvertisement(id16));
          expect(dp3t.protocol === "dp3t" && toHex(dp3t.ephid)).toBe(toHex(id16));
          const bluezone = classifyAdvertisement(encodeBluezoneAdvertisement(id12));
          expect(bluezone.protocol === "bluezone" && toHex(bluezone.id)).toBe(toHex(id12));
        },
      ),
      { numRuns: 300 },
    );
  });
});
