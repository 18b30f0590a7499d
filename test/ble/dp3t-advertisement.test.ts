import { describe, expect, it } from "vitest";
import { parseAdvertisingData } from "../../src/ble/advertising-data.js";
import {
  decodeDp3tServiceData,
  encodeDp3tAdvertisement,
} from "../../src/ble/dp3t-advertisement.js";
import { fromHex, toHex } from "../../src/core/hex.js";
import { DP3T_SDK_VECTOR } from "../vectors/dp3t-sdk.js";
import { expectCodecError } from "./expect-codec-error.js";

const ephid = fromHex(DP3T_SDK_VECTOR.ephId0);

describe("encodeDp3tAdvertisement", () => {
  it("lays out flags, UUID 0xFD68 and the EphID in 27 bytes", () => {
    const bytes = encodeDp3tAdvertisement(ephid);
    expect(toHex(bytes)).toBe(`02011a030368fd131668fd${DP3T_SDK_VECTOR.ephId0}`);
    expect(parseAdvertisingData(bytes)).toEqual([
      { type: "flags", flags: 0x1a },
      { type: "serviceUuids16", complete: true, uuids: [0xfd68] },
      { type: "serviceData16", uuid: 0xfd68, data: ephid },
    ]);
  });

  it("round-trips through the service data decoder", () => {
    const [, , serviceData] = parseAdvertisingData(encodeDp3tAdvertisement(ephid));
    expect(
      serviceData.type === "serviceData16" && toHex(decodeDp3tServiceData(serviceData.data)),
    ).toBe(DP3T_SDK_VECTOR.ephId0);
  });

  it("rejects an EphID of the wrong length", () => {
    expectCodecError(
      () => encodeDp3tAdvertisement(new Uint8Array(15)),
      undefined,
      /EphID must be 16 bytes, got 15/,
    );
    expectCodecError(
      () => decodeDp3tServiceData(new Uint8Array(17), 7),
      7,
      /16-byte EphID, got 17/,
    );
  });
});
