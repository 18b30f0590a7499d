/**
 * HCI command packets that make a bare controller advertise one broadcast (Bluetooth Core
 * specification v5.4, Vol 4 Part E §5.4.1 for the command packet, §7.8 for the LE commands):
 * the packets an `hcitool cmd` line, a UART or a microcontroller's HCI driver sends.
 *
 * Multi-byte parameters are little-endian on the wire, the Bluetooth address included: an
 * address printed 1a:2b:3c:4d:5e:6f is sent as 6f 5e 4d 3c 2b 1a.
 */

import { ADDRESS_BYTES } from "../ble/random-address.js";
import { ConfigError } from "../core/errors.js";
import type { Broadcast } from "../protocols/rotating-advertiser.js";

/** OGF of the LE controller commands (Vol 4 Part E §7.8). */
export const OGF_LE = 0x08;
/** OCFs of the LE commands used here. */
export const OCF = {
  /** §7.8.4 LE Set Random Address. */
  setRandomAddress: 0x0005,
  /** §7.8.5 LE Set Advertising Parameters. */
  setAdvertisingParameters: 0x0006,
  /** §7.8.7 LE Set Advertising Data. */
  setAdvertisingData: 0x0008,
  /** §7.8.9 LE Set Advertising Enable. */
  setAdvertisingEnable: 0x000a,
  /** §7.8.11 LE Set Scan Enable (written into synthetic captures, where a scan starts). */
  setScanEnable: 0x000c,
} as const;

/** H4 (UART transport, Vol 4 Part A §2) packet indicator of an HCI command. */
export const H4_COMMAND = 0x01;
/** Legacy advertising PDU types for Advertising_Type (§7.8.5). */
export const ADV_NONCONN_IND = 0x03;
/** Own_Address_Type: random device address (the one set by LE Set Random Address). */
export const OWN_ADDRESS_RANDOM = 0x01;
/** Advertising_Channel_Map: channels 37, 38 and 39. */
export const ALL_ADVERTISING_CHANNELS = 0x07;
/** Legacy advertising data is at most 31 bytes (§7.8.7). */
export const MAX_ADVERTISING_DATA = 31;
/** Advertising_Interval range: 0x0020..0x4000 units of 0.625 ms (20 ms .. 10.24 s). */
export const MIN_INTERVAL_UNITS = 0x0020;
export const MAX_INTERVAL_UNITS = 0x4000;
export const INTERVAL_UNIT_MS = 0.625;

/** One HCI command: its name, opcode parts and parameter bytes. */
export interface HciCommand {
  readonly name: string;
  readonly ogf: number;
  readonly ocf: number;
  readonly params: Uint8Array;
}

/** The 16-bit opcode: OGF in the upper 6 bits, OCF in the lower 10. */
export function hciOpcode(ogf: number, ocf: number): number {
  return ((ogf & 0x3f) << 10) | (ocf & 0x3ff);
}

/** The command packet (§5.4.1): opcode (LE), parameter length, parameters. */
export function commandPacket(command: HciCommand): Uint8Array {
  const opcode = hciOpcode(command.ogf, command.ocf);
  const out = new Uint8Array(3 + command.params.length);
  out[0] = opcode & 0xff;
  out[1] = opcode >> 8;
  out[2] = command.params.length;
  out.set(command.params, 3);
  return out;
}

/** The command as an H4 packet: 0x01, then the command packet. */
export function h4CommandPacket(command: HciCommand): Uint8Array {
  const packet = commandPacket(command);
  const out = new Uint8Array(1 + packet.length);
  out[0] = H4_COMMAND;
  out.set(packet, 1);
  return out;
}

/** A Bluetooth address (6 bytes, most significant first, as printed) in wire order. */
export function addressToWire(address: Uint8Array): Uint8Array {
  if (address.length !== ADDRESS_BYTES)
    throw new ConfigError(`a Bluetooth address is 6 bytes, got ${address.length}`, "E_ADDRESS");
  return address.slice().reverse();
}

/** §7.8.4: LE Set Random Address (6 parameter bytes: the address, little-endian). */
export function leSetRandomAddress(address: Uint8Array): HciCommand {
  return {
    name: "LE Set Random Address",
    ogf: OGF_LE,
    ocf: OCF.setRandomAddress,
    params: addressToWire(address),
  };
}

/** An advertising interval in ms as 0.625 ms units, checked against the allowed range. */
export function intervalUnits(ms: number, what = "advertising interval"): number {
  const units = Math.round(ms / INTERVAL_UNIT_MS);
  if (!(units >= MIN_INTERVAL_UNITS && units <= MAX_INTERVAL_UNITS)) {
    throw new ConfigError(
      `${what} must be 20-10240 ms (0x0020-0x4000 units of 0.625 ms), got ${ms} ms`,
      "E_RANGE",
    );
  }
  return units;
}

export interface AdvertisingParameters {
  /** Advertising_Interval_Min and _Max, ms (rounded to 0.625 ms units). */
  readonly minIntervalMs: number;
  readonly maxIntervalMs: number;
  /** Advertising_Type [default ADV_NONCONN_IND]. */
  readonly advertisingType?: number;
  /** Own_Address_Type [default random]. */
  readonly ownAddressType?: number;
  /** Advertising_Channel_Map [default 0x07, all three]. */
  readonly channelMap?: number;
  /** Advertising_Filter_Policy [default 0: scan and connect requests from anyone]. */
  readonly filterPolicy?: number;
}

/**
 * §7.8.5: LE Set Advertising Parameters, 15 parameter bytes: interval min (2), max (2),
 * advertising type (1), own address type (1), peer address type (1), peer address (6, unused
 * for undirected advertising: zeros), channel map (1), filter policy (1).
 */
export function leSetAdvertisingParameters(p: AdvertisingParameters): HciCommand {
  const min = intervalUnits(p.minIntervalMs, "minimum advertising interval");
  const max = intervalUnits(p.maxIntervalMs, "maximum advertising interval");
  if (max < min)
    throw new ConfigError(
      `the maximum advertising interval (${p.maxIntervalMs} ms) is below the minimum (${p.minIntervalMs} ms)`,
      "E_RANGE",
    );
  const params = new Uint8Array(15);
  params[0] = min & 0xff;
  params[1] = min >> 8;
  params[2] = max & 0xff;
  params[3] = max >> 8;
  params[4] = p.advertisingType ?? ADV_NONCONN_IND;
  params[5] = p.ownAddressType ?? OWN_ADDRESS_RANDOM;
  // params[6] peer address type and [7..12] peer address stay 0: not directed advertising.
  params[13] = p.channelMap ?? ALL_ADVERTISING_CHANNELS;
  params[14] = p.filterPolicy ?? 0;
  return {
    name: "LE Set Advertising Parameters",
    ogf: OGF_LE,
    ocf: OCF.setAdvertisingParameters,
    params,
  };
}

/** §7.8.7: LE Set Advertising Data: the significant length, then 31 bytes, zero-padded. */
export function leSetAdvertisingData(data: Uint8Array): HciCommand {
  if (data.length > MAX_ADVERTISING_DATA)
    throw new ConfigError(
      `legacy advertising data is at most ${MAX_ADVERTISING_DATA} bytes, got ${data.length}`,
      "E_LENGTH",
    );
  const params = new Uint8Array(1 + MAX_ADVERTISING_DATA);
  params[0] = data.length;
  params.set(data, 1);
  return { name: "LE Set Advertising Data", ogf: OGF_LE, ocf: OCF.setAdvertisingData, params };
}

/** §7.8.9: LE Set Advertising Enable (1 parameter byte: 0x01 enable, 0x00 disable). */
export function leSetAdvertisingEnable(enable: boolean): HciCommand {
  return {
    name: `LE Set Advertising Enable (${enable ? "enable" : "disable"})`,
    ogf: OGF_LE,
    ocf: OCF.setAdvertisingEnable,
    params: Uint8Array.of(enable ? 1 : 0),
  };
}

/** §7.8.11: LE Set Scan Enable (enable, filter duplicates). */
export function leSetScanEnable(enable: boolean, filterDuplicates = false): HciCommand {
  return {
    name: `LE Set Scan Enable (${enable ? "enable" : "disable"})`,
    ogf: OGF_LE,
    ocf: OCF.setScanEnable,
    params: Uint8Array.of(enable ? 1 : 0, filterDuplicates ? 1 : 0),
  };
}

/**
 * The commands that put `broadcast` on the air from a bare controller, in an order every
 * controller accepts: advertising off first (a controller refuses a new random address while
 * advertising, §7.8.4), then address, parameters, data, and advertising on. Sending the same
 * sequence at each rotation changes address and payload together.
 */
export function advertisingCommands(
  broadcast: Pick<Broadcast, "address" | "payload">,
  interval: { minIntervalMs: number; maxIntervalMs: number },
): HciCommand[] {
  return [
    leSetAdvertisingEnable(false),
    leSetRandomAddress(broadcast.address),
    leSetAdvertisingParameters(interval),
    leSetAdvertisingData(broadcast.payload),
    leSetAdvertisingEnable(true),
  ];
}

function hexByte(b: number, upper = true): string {
  const s = b.toString(16).padStart(2, "0");
  return upper ? s.toUpperCase() : s;
}

/** The command as an `hcitool cmd` line: `hcitool -i hci0 cmd 0x08 0x0005 6F 5E ...`. */
export function hcitoolLine(command: HciCommand, device = "hci0"): string {
  const parts = [
    "hcitool",
    "-i",
    device,
    "cmd",
    `0x${hexByte(command.ogf, false)}`,
    `0x${command.ocf.toString(16).padStart(4, "0")}`,
  ];
  for (const b of command.params) parts.push(hexByte(b));
  return parts.join(" ");
}

/** The commands as one C array of H4 packets (each self-delimiting by its length byte). */
export function commandsAsC(
  commands: readonly HciCommand[],
  name: string,
  comment: string,
): string {
  const lines = [`/* ${comment.replace(/\*\//g, "* /")} */`, "#include <stdint.h>", ""];
  lines.push(
    "/* H4 packets back to back: 0x01 (HCI command), opcode (little-endian), length, parameters. */",
  );
  lines.push(`static const uint8_t ${name}[] = {`);
  for (const command of commands) {
    lines.push(`  /* ${command.name} */`);
    const bytes = Array.from(h4CommandPacket(command), (b) => `0x${hexByte(b, false)}`);
    for (let i = 0; i < bytes.length; i += 12)
      lines.push(`  ${bytes.slice(i, i + 12).join(", ")},`);
  }
  lines.push("};");
  lines.push(`#define ${name.toUpperCase()}_COUNT ${commands.length}`);
  return `${lines.join("\n")}\n`;
}
