/**
 * What the advertiser needs beyond the command encoders of `../hci-commands.ts`: the H4
 * packets it writes to bleno's socket, and the events that answer them (Bluetooth Core spec
 * v5.3, Vol 4 Part E §7.7.14 Command Complete, §7.7.15 Command Status).
 */
import {
  leSetAdvertisingData as advertisingDataCommand,
  leSetAdvertisingEnable as advertisingEnableCommand,
  leSetAdvertisingParameters as advertisingParametersCommand,
  h4CommandPacket,
  hciOpcode,
  OCF,
  OGF_LE,
  leSetRandomAddress as randomAddressCommand,
} from "../hci-commands.js";

export { ADV_NONCONN_IND, OWN_ADDRESS_RANDOM } from "../hci-commands.js";

/** Own_Address_Type public device address (§7.8.5). */
export const OWN_ADDRESS_PUBLIC = 0x00;

const HCI_EVENT_PKT = 0x04;
const EVT_CMD_COMPLETE = 0x0e;
const EVT_CMD_STATUS = 0x0f;

export const OPCODE = {
  leSetRandomAddress: hciOpcode(OGF_LE, OCF.setRandomAddress),
  leSetAdvertisingParameters: hciOpcode(OGF_LE, OCF.setAdvertisingParameters),
  leSetAdvertisingData: hciOpcode(OGF_LE, OCF.setAdvertisingData),
  /** §7.8.8 LE Set Scan Response Data (bleno sends it with the advertising data). */
  leSetScanResponseData: hciOpcode(OGF_LE, 0x0009),
  leSetAdvertisingEnable: hciOpcode(OGF_LE, OCF.setAdvertisingEnable),
} as const;

/** H4 packet: LE Set Random Address; `address` is 6 bytes, most significant first. */
export function leSetRandomAddress(address: Uint8Array): Uint8Array {
  return h4CommandPacket(randomAddressCommand(address));
}

/** H4 packet: LE Set Advertising Parameters, non-connectable, min = max = the interval. */
export function leSetAdvertisingParameters(options: {
  intervalMs: number;
  ownAddressType: number;
}): Uint8Array {
  return h4CommandPacket(
    advertisingParametersCommand({
      minIntervalMs: options.intervalMs,
      maxIntervalMs: options.intervalMs,
      ownAddressType: options.ownAddressType,
    }),
  );
}

/** H4 packet: LE Set Advertising Data. */
export function leSetAdvertisingData(data: Uint8Array): Uint8Array {
  return h4CommandPacket(advertisingDataCommand(data));
}

/** H4 packet: LE Set Advertising Enable. */
export function leSetAdvertisingEnable(enable: boolean): Uint8Array {
  return h4CommandPacket(advertisingEnableCommand(enable));
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

/** A Command Complete event for `opcode` with `status` and no return parameters. */
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
