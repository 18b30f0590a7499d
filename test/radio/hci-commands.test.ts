import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../src/core/hex.js";
import {
  advertisingCommands,
  commandPacket,
  commandsAsC,
  h4CommandPacket,
  hciOpcode,
  hcitoolLine,
  intervalUnits,
  leSetAdvertisingData,
  leSetAdvertisingEnable,
  leSetAdvertisingParameters,
  leSetRandomAddress,
} from "../../src/radio/hci-commands.js";

// The GAEN v1.2 vector's advertisement (docs/protocols.md, Advertising payloads).
const GAEN_PAYLOAD = fromHex("02011a03036ffd17166ffd8be6cd371c5c891604bfbe49df84509672033874");
// An NRPA as printed: most significant byte first (top two bits 00).
const ADDRESS = fromHex("1a2b3c4d5e6f");

describe("HCI LE advertising commands (Core spec Vol 4 Part E)", () => {
  it("opcodes: OGF 0x08 in the top 6 bits, OCF in the low 10", () => {
    expect(hciOpcode(0x08, 0x0005)).toBe(0x2005);
    expect(hciOpcode(0x08, 0x0006)).toBe(0x2006);
    expect(hciOpcode(0x08, 0x0008)).toBe(0x2008);
    expect(hciOpcode(0x08, 0x000a)).toBe(0x200a);
    expect(hciOpcode(0x03, 0x0003)).toBe(0x0c03); // HCI_Reset, a well-known opcode
  });

  it("§7.8.4 LE Set Random Address: 6 bytes, little-endian on the wire", () => {
    expect(toHex(h4CommandPacket(leSetRandomAddress(ADDRESS)))).toBe("01052006" + "6f5e4d3c2b1a");
  });

  it("§7.8.5 LE Set Advertising Parameters: 15 bytes, GAEN's 200-270 ms, ADV_NONCONN_IND, own address random, channels 37-39", () => {
    const packet = h4CommandPacket(
      leSetAdvertisingParameters({ minIntervalMs: 200, maxIntervalMs: 270 }),
    );
    // min 320 = 0x0140, max 432 = 0x01B0 (units of 0.625 ms), type 3, own 1, peer type 0,
    // peer address 0, channel map 7, filter policy 0.
    expect(toHex(packet)).toBe(
      "0106200f" + "4001" + "b001" + "03" + "01" + "00" + "000000000000" + "07" + "00",
    );
  });

  it("§7.8.7 LE Set Advertising Data: length byte then 31 bytes, zero-padded", () => {
    expect(toHex(h4CommandPacket(leSetAdvertisingData(GAEN_PAYLOAD)))).toBe(
      `01082020${"1f"}${toHex(GAEN_PAYLOAD)}`,
    );
    const short = h4CommandPacket(leSetAdvertisingData(fromHex("020106")));
    expect(short.length).toBe(4 + 32);
    expect(toHex(short)).toBe(`0108202003020106${"00".repeat(28)}`);
    expect(() => leSetAdvertisingData(new Uint8Array(32))).toThrow(/at most 31 bytes/);
  });

  it("§7.8.9 LE Set Advertising Enable", () => {
    expect(toHex(h4CommandPacket(leSetAdvertisingEnable(true)))).toBe("010a200101");
    expect(toHex(commandPacket(leSetAdvertisingEnable(false)))).toBe("0a200100");
  });

  it("intervals: 0.625 ms units within 0x0020..0x4000", () => {
    expect(intervalUnits(20)).toBe(0x20);
    expect(intervalUnits(10_240)).toBe(0x4000);
    expect(() => intervalUnits(19)).toThrow(/20-10240 ms/);
    expect(() => leSetAdvertisingParameters({ minIntervalMs: 300, maxIntervalMs: 200 })).toThrow(
      /below the minimum/,
    );
  });

  it("a rotation is: disable, address, parameters, data, enable", () => {
    const commands = advertisingCommands(
      { address: ADDRESS, payload: GAEN_PAYLOAD },
      { minIntervalMs: 200, maxIntervalMs: 270 },
    );
    expect(commands.map((c) => c.ocf)).toEqual([0x0a, 0x05, 0x06, 0x08, 0x0a]);
    expect(commands[0].params[0]).toBe(0);
    expect(commands[4].params[0]).toBe(1);
  });

  it("hcitool lines and a C array", () => {
    expect(hcitoolLine(leSetRandomAddress(ADDRESS))).toBe(
      "hcitool -i hci0 cmd 0x08 0x0005 6F 5E 4D 3C 2B 1A",
    );
    expect(hcitoolLine(leSetAdvertisingEnable(true), "hci1")).toBe(
      "hcitool -i hci1 cmd 0x08 0x000a 01",
    );
    const c = commandsAsC([leSetAdvertisingEnable(true)], "proxkit_hci", "test */ comment");
    expect(c).toContain("static const uint8_t proxkit_hci[] = {");
    expect(c).toContain("0x01, 0x0a, 0x20, 0x01, 0x01,");
    expect(c).not.toContain("test */");
  });
});
