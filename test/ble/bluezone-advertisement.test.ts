import { describe, expect, it } from "vitest";
import { parseAdvertisingData } from "../../src/ble/advertising-data.js";
import {
  decodeBluezoneManufacturerData,
  encodeBluezoneAdvertisement,
} from "../../src/ble/bluezone-advertisement.js";
import { fromHex, toHex } from "../../src/core/hex.js";
import { expectCodecError } from "./expect-codec-error.js";

const id = fromHex("0102030405060708090a0b0c");

describe("encodeBluezoneAdvertisement", () => {
  it("lays out connectable flags, UUID 0x4E56 and company 0x22B5's data in 23 bytes", () => {
    const bytes = encodeBluezoneAdvertisement(id);
    expect(toHex(bytes)).toBe("020106030356" + "4e0fffb522" + "0102030405060708090a0b0c");
    expect(parseAdvertisingData(bytes)).toEqual([
      { type: "flags", flags: 0x06 },
      { type: "serviceUuids16", complete: true, uuids: [0x4e56] },
      { type: "manufacturerData", companyId: 0x22b5, data: id },
    ]);
  });

  it("round-trips through the manufacturer data decoder", () => {
    const [, , data] = parseAdvertisingData(encodeBluezoneAdvertisement(id));
    expect(data.type === "manufacturerData" && decodeBluezoneManufacturerData(data.data)).toEqual(
      id,
    );
  });

  it("rejects an ID of the wrong length", () => {
    expectCodecError(
      () => encodeBluezoneAdvertisement(new Uint8Array(16)),
      undefined,
      /12 bytes, got 16/,
    );
    expectCodecError(
      () => decodeBluezoneManufacturerData(new Uint8Array(6), 7),
      7,
      /12-byte ID, got 6/,
    );
  });
});
