import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../src/core/hex.js";
import {
  cryptAem,
  cryptAems,
  decodeMetadata,
  deriveAemk,
  deriveRpi,
  deriveRpik,
  deriveRpis,
  encodeMetadata,
  enIntervalNumber,
  GaenRpiBatchDeriver,
  rollingStartFor,
} from "../../src/protocols/gaen.js";
import { GAEN_CRYPTO_V1_2 as V } from "./gaen-crypto-v1.2.js";

describe("GAEN crypto spec v1.2 official vector", () => {
  const tek = fromHex(V.tek);

  it("ENIN of 2020-04-02T00:00:00Z is the vector's interval, day-aligned", () => {
    expect(enIntervalNumber(V.unixSeconds * 1000)).toBe(V.intervalNumber);
    expect(rollingStartFor(V.intervalNumber + 143)).toBe(V.intervalNumber);
  });

  it("derives RPIK and AEMK", () => {
    expect(toHex(deriveRpik(tek))).toBe(V.rpik);
    expect(toHex(deriveAemk(tek))).toBe(V.aemk);
  });

  it("derives RPI_0 and RPI_1", () => {
    const rpik = deriveRpik(tek);
    for (const { intervalNumber, rpi } of V.intervals) {
      expect(toHex(deriveRpi(rpik, intervalNumber))).toBe(rpi);
    }
    const all = deriveRpis(rpik, V.intervalNumber);
    expect(all.length).toBe(144 * 16);
    expect(toHex(all.subarray(16, 32))).toBe(V.intervals[1].rpi);
  });

  it("encrypts and decrypts AEM_0 and AEM_1", () => {
    const aemk = deriveAemk(tek);
    const metadata = encodeMetadata(V.txPowerDbm);
    expect(toHex(metadata)).toBe(V.metadata);
    for (const { rpi, aem } of V.intervals) {
      expect(toHex(cryptAem(aemk, fromHex(rpi), metadata))).toBe(aem);
      expect(decodeMetadata(cryptAem(aemk, fromHex(rpi), fromHex(aem)))).toEqual({
        version: 0x40,
        txPowerDbm: 8,
      });
    }
    const rpis = fromHex(V.intervals.map((i) => i.rpi).join(""));
    const aems = cryptAems(aemk, rpis, fromHex(V.metadata + V.metadata));
    expect(toHex(aems)).toBe(V.intervals.map((i) => i.aem).join(""));
  });

  it("the batch deriver gives the same RPIs as the single-key path", () => {
    const deriver = new GaenRpiBatchDeriver();
    const teks = new Uint8Array(3 * 16);
    teks.set(tek, 0);
    teks.set(fromHex("00112233445566778899aabbccddeeff"), 16);
    teks.set(tek, 32);
    const starts = [V.intervalNumber, V.intervalNumber - 144, V.intervalNumber + 144];
    const out = deriver.deriveAll(teks, starts, [144, 144, 10]);
    for (let k = 0; k < 3; k++) {
      const count = k === 2 ? 10 : 144;
      const expected = deriveRpis(deriveRpik(teks.subarray(16 * k, 16 * k + 16)), starts[k], count);
      expect(toHex(out.subarray(k * 2304, k * 2304 + count * 16))).toBe(toHex(expected));
    }
    expect(toHex(out.subarray(0, 16))).toBe(V.intervals[0].rpi);
  });

  it("decodes signed TX power", () => {
    expect(decodeMetadata(encodeMetadata(-30)).txPowerDbm).toBe(-30);
    expect(() => encodeMetadata(200)).toThrow(/TX power/);
  });
});
