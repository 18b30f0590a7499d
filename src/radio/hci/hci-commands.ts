/**
 * The few HCI commands the advertiser sends itself, and the events that answer them
 * (Bluetooth Core spec v5.3, Vol 4 Part E §5.4.1 packet format, §7.7.14/§7.7.15 Command
 * Complete/Status, §7.8.4-§7.8.9 LE advertising commands). Packets start with the H4 packet
 * type byte, as written to a Linux HCI socket.
 */
import { RadioError } from "../../core/errors.js";

const HCI_COMMAND_PKT = 0x01;
const HCI_EVENT_PKT = 0x04;
const EVT_CMD_COMPLETE = 0x0e;
const EVT_CMD_STATUS = 0x0f;
/** OGF 0x08 (LE controller commands) in the top 6 bits of the opcode. */
const OGF_LE = 0x08 << 10;

export const OPCODE = {
  leSetRandomAddress: OGF_LE | 0x0005,
  leSetAdvertisingParameters: OGF_LE | 0x0006,
  leSetAdvertisingData: OGF_LE | 0x0008,
  leSetScanResponseData: OGF_LE | 0x0009,
  leSetAdvertisingEnable: OGF_LE | 0x000a,
} as const;

/** Advertising_Type ADV_NONCONN_IND (§7.8.5): neither connectable nor scannable, as GAEN requires. */
export const ADV_NONCONN_IND = 0x03;
/** Own_Address_Type (§7.8.5): 0x00 public device address, 0x01 random device address. */
export const OWN_ADDRESS_PUBLIC = 0x00;
export const OWN_ADDRESS_RANDOM = 0x01;
/** Advertising intervals are in units of 0.625 ms, 0x0020..0x4000 (20 ms..10.24 s). */
const INTERVAL_UNIT_MS = 0.625;

function command(opcode: number, parameters: readonly number[]): Uint8Array {
  return Uint8Array.from([
    HCI_COMMAND_PKT,
    opcode & 0xff,
    opcode >> 8,
    parameters.length,
    ...parameters,
  ]);
}

/** LE Set Random Address; `address` is 6 bytes, most significant first (sent LSB first). */
export function leSetRandomAddress(address: Uint8Array): Uint8Array {
  if (address.length !== 6)
    throw new RadioError(
      `a Bluetooth address is 6 bytes, got ${address.length}`,
      "E_RADIO_ADDRESS",
    );
  return command(OPCODE.leSetRandomAddress, [...address].reverse());
}

/** LE Set Advertising Parameters: non-connectable, all three channels, no filter. */
export function leSetAdvertisingParameters(options: {
  intervalMs: number;
  ownAddressType: number;
}): Uint8Array {
  const units = Math.round(options.intervalMs / INTERVAL_UNIT_MS);
  if (units < 0x20 || units > 0x4000)
    throw new RadioError(
      `advertising interval must be 20-10240 ms, got ${options.intervalMs}`,
      "E_RADIO_OPTIONS",
    );
  return command(OPCODE.leSetAdvertisingParameters, [
    units & 0xff,
    units >> 8, // Advertising_Interval_Min
    units & 0xff,
    units >> 8, // Advertising_Interval_Max
    ADV_NONCONN_IND,
    options.ownAddressType,
    0x00, // Peer_Address_Type (unused for undirected advertising)
    0,
    0,
    0,
    0,
    0,
    0, // Peer_Address
    0x07, // Advertising_Channel_Map: 37, 38 and 39
    0x00, // Advertising_Filter_Policy: anyone may scan
  ]);
}

/** LE Set Advertising Data: 31 bytes of parameter, the data padded with zeros. */
export function leSetAdvertisingData(data: Uint8Array): Uint8Array {
  if (data.length > 31)
    throw new RadioError(
      `legacy advertising data is at most 31 bytes, got ${data.length}`,
      "E_RADIO_PAYLOAD",
    );
  const parameters = new Array<number>(32).fill(0);
  parameters[0] = data.length;
  for (let i = 0; i < data.length; i++) parameters[i + 1] = data[i];
  return command(OPCODE.leSetAdvertisingData, parameters);
}

export function leSetAdvertisingEnable(enable: boolean): Uint8Array {
  return command(OPCODE.leSetAdvertisingEnable, [enable ? 1 : 0]);
}

/** The opcode and status of a Command Complete or Command Status event, or `undefined`. */
export function commandResult(packet: Uint8Array): { opcode: number; status: number } | undefined {
  if (packet.length < 7 || packet[0] !== HCI_EVENT_PKT) return undefined;
  if (packet[1] === EVT_CMD_COMPLETE)
    return { opcode: packet[4] | (packet[5] << 8), status: packet[6] };
  if (packet[1] === EVT_CMD_STATUS)
    return { opcode: packet[5] | (packet[6] << 8), status: packet[3] };
  return undefined;
}

/** A Command Complete event for `opcode` with `status` (and no return parameters). */
export function commandCompleteEvent(opcode: number, status: number): Uint8Array {
  return Uint8Array.from([
    HCI_EVENT_PKT,
    EVT_CMD_COMPLETE,
    4,
    1,
    opcode & 0xff,
    opcode >> 8,
    status,
  ]);
}
