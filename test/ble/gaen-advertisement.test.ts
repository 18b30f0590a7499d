import { describe, expect, it } from "vitest";
import { encodeAdvertisingData } from "../../src/ble/advertising-data.js";
import {
  decodeGaenServiceData,
  encodeGaenAdvertisement,
} from "../../src/ble/gaen-advertisement.js";
import { fromHex, toHex } from "../../src/core/hex.js";
import { GAEN_CRYPTO_V1_2 as V } from "../vectors/gaen-crypto-v1.2.js";
import { expectCodecError } from "./expect-codec-error.js";

const rpi = fromHex(V.intervals[0].rpi);
const aem = fromHex(V.intervals[0].aem);

describe("encodeGaenAdvertisement", () => {
  it("gives the official advertisement of the v1.2 vector", () => {
    const bytes = encodeGaenAdvertisement(rpi, aem);
    expect(bytes).toHaveLength(31);
    expect(toHex(bytes)).toBe(V.advertisement);
  });

  it("agrees with the generic encoder", () => {
    const generic = encodeAdvertisingData([
      { type: "flags", flags: 0x1a },
      { type: "serviceUuids16", complete: true, uuids: [0xfd6f] },
      {
        type: "serviceData16",
        uuid: 0xfd6f,
        data: fromHex(V.intervals[1].rpi + V.intervals[1].aem),
      },
    ]);
    expect(
      encodeGaenAdvertisement(fromHex(V.intervals[1].rpi), fromHex(V.intervals[1].aem)),
    ).toEqual(generic);
  });

  it("rejects an RPI or AEM of the wrong length", () => {
    expectCodecError(
      () => encodeGaenAdvertisement(rpi.subarray(0, 15), aem),
      undefined,
      /RPI must be 16 bytes, got 15/,
    );
    expectCodecError(
      () => encodeGaenAdvertisement(rpi, new Uint8Array(5)),
      undefined,
      /AEM must be 4 bytes, got 5/,
    );
  });
});

describe("decodeGaenServiceData", () => {
  it("splits 20 bytes into RPI and AEM", () => {
    const decoded = decodeGaenServiceData(fromHex(V.intervals[0].rpi + V.intervals[0].aem));
    expect(toHex(decoded.rpi)).toBe(V.intervals[0].rpi);
    expect(toHex(decoded.aem)).toBe(V.intervals[0].aem);
  });

  it("accepts only exactly 20 bytes", () => {
    expectCodecError(
      () => decodeGaenServiceData(new Uint8Array(19), 7),
      7,
      /must be 20 bytes .* got 19/,
    );
    expectCodecError(() => decodeGaenServiceData(new Uint8Array(21)), undefined, /got 21/);
  });
});
