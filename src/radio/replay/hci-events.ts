/**
 * HCI LE advertising report events (Bluetooth Core specification v5.4, Vol 4 Part E §7.7.65):
 * decoding, for captures, and encoding, for building spec-correct test captures.
 *
 * Event packet (§5.4.4): event code, parameter length, parameters. LE Meta event = 0x3E, whose
 * first parameter is the subevent code. Reports follow one another, each complete in turn (the
 * layout BlueZ, Android and Zephyr read; identical to the specification's array notation for
 * the usual single report). Addresses are little-endian on the wire; here they are returned
 * most significant byte first, as printed.
 */
import { CodecError } from "../../core/errors.js";

export const EVENT_LE_META = 0x3e;
/** §7.7.65.2 LE Advertising Report. */
export const SUBEVENT_ADVERTISING_REPORT = 0x02;
/** §7.7.65.13 LE Extended Advertising Report. */
export const SUBEVENT_EXTENDED_ADVERTISING_REPORT = 0x0d;
/** RSSI and TX power value meaning "not available". */
export const RSSI_NOT_AVAILABLE = 127;

/** Legacy event types (§7.7.65.2). */
export const ADV_IND = 0x00;
export const ADV_DIRECT_IND = 0x01;
export const ADV_SCAN_IND = 0x02;
export const ADV_NONCONN_IND = 0x03;
export const SCAN_RSP = 0x04;

/** Address types: 0 public, 1 random, 2 public identity, 3 random identity, 0xFF anonymous. */
export const ADDRESS_PUBLIC = 0x00;
export const ADDRESS_RANDOM = 0x01;

/** One advertising report. `data` is a view into the packet: copy it to keep it. */
export interface AdvertisingReport {
  readonly extended: boolean;
  /** Legacy: 0..4; extended: the 16-bit Event_Type bit field. */
  readonly eventType: number;
  readonly addressType: number;
  /** Most significant byte first. */
  readonly address: Uint8Array;
  /** int8, dBm; 127 = not available. */
  readonly rssiDbm: number;
  /** Extended reports only: int8 dBm, 127 = not available. */
  readonly txPowerDbm?: number;
  /** Extended reports only: false when the data is incomplete or truncated (data status ≠ 0). */
  readonly complete: boolean;
  readonly data: Uint8Array;
}

const int8 = (b: number) => (b << 24) >> 24;

function readAddress(bytes: Uint8Array, at: number): Uint8Array {
  const address = new Uint8Array(6);
  for (let i = 0; i < 6; i++) address[i] = bytes[at + 5 - i];
  return address;
}

/**
 * Calls `onReport` for each advertising report in `event` (an HCI event packet without the H4
 * indicator); other events are ignored. `offset` is the event's file offset, for errors: a
 * report that runs past its event is a `CodecError` naming where.
 */
export function forEachAdvertisingReport(
  event: Uint8Array,
  offset: number,
  onReport: (report: AdvertisingReport) => void,
): void {
  if (event.length < 3 || event[0] !== EVENT_LE_META) return;
  const end = 2 + event[1];
  if (end > event.length)
    throw new CodecError(
      `HCI event parameter length ${event[1]} runs past the ${event.length - 2} bytes recorded`,
      offset,
      "E_HCI_EVENT",
    );
  const subevent = event[2];
  if (subevent === SUBEVENT_ADVERTISING_REPORT) {
    const count = event[3];
    let at = 4;
    for (let i = 0; i < count; i++) {
      // event type 1, address type 1, address 6, data length 1, data, RSSI 1
      if (at + 9 > end) throw badReport(i, offset + at);
      const length = event[at + 8];
      if (length > 31 || at + 9 + length + 1 > end) throw badReport(i, offset + at);
      onReport({
        extended: false,
        eventType: event[at],
        addressType: event[at + 1],
        address: readAddress(event, at + 2),
        rssiDbm: int8(event[at + 9 + length]),
        complete: true,
        data: event.subarray(at + 9, at + 9 + length),
      });
      at += 10 + length;
    }
  } else if (subevent === SUBEVENT_EXTENDED_ADVERTISING_REPORT) {
    const count = event[3];
    let at = 4;
    for (let i = 0; i < count; i++) {
      // event type 2, address type 1, address 6, primary PHY 1, secondary PHY 1, SID 1,
      // TX power 1, RSSI 1, periodic interval 2, direct address type 1, direct address 6,
      // data length 1, data
      if (at + 24 > end) throw badReport(i, offset + at);
      const length = event[at + 23];
      if (at + 24 + length > end) throw badReport(i, offset + at);
      const eventType = event[at] | (event[at + 1] << 8);
      onReport({
        extended: true,
        eventType,
        addressType: event[at + 2],
        address: readAddress(event, at + 3),
        txPowerDbm: int8(event[at + 12]),
        rssiDbm: int8(event[at + 13]),
        complete: ((eventType >> 5) & 0x3) === 0,
        data: event.subarray(at + 24, at + 24 + length),
      });
      at += 24 + length;
    }
  }
}

function badReport(index: number, offset: number): CodecError {
  return new CodecError(
    `LE advertising report ${index + 1} runs past the end of its event`,
    offset,
    "E_HCI_EVENT",
  );
}

/** What a report encoder needs. */
export interface ReportInput {
  readonly eventType?: number;
  readonly addressType?: number;
  /** Most significant byte first. */
  readonly address: Uint8Array;
  readonly rssiDbm: number;
  readonly txPowerDbm?: number;
  readonly data: Uint8Array;
}

function writeAddress(out: Uint8Array, at: number, address: Uint8Array): void {
  if (address.length !== 6)
    throw new CodecError(
      `a Bluetooth address is 6 bytes, got ${address.length}`,
      undefined,
      "E_LENGTH",
    );
  for (let i = 0; i < 6; i++) out[at + i] = address[5 - i];
}

function finishEvent(body: number[] | Uint8Array, subevent: number, count: number): Uint8Array {
  const length = 2 + body.length;
  if (length > 255)
    throw new CodecError(
      `an HCI event carries at most 255 parameter bytes, got ${length}`,
      undefined,
      "E_LENGTH",
    );
  const out = new Uint8Array(2 + length);
  out[0] = EVENT_LE_META;
  out[1] = length;
  out[2] = subevent;
  out[3] = count;
  out.set(body, 4);
  return out;
}

/** An LE Advertising Report event (legacy), reports one after another. */
export function encodeAdvertisingReportEvent(reports: readonly ReportInput[]): Uint8Array {
  const body: number[] = [];
  for (const r of reports) {
    if (r.data.length > 31)
      throw new CodecError(
        `legacy advertising data is at most 31 bytes, got ${r.data.length}`,
        undefined,
        "E_LENGTH",
      );
    const part = new Uint8Array(10 + r.data.length);
    part[0] = r.eventType ?? ADV_NONCONN_IND;
    part[1] = r.addressType ?? ADDRESS_RANDOM;
    writeAddress(part, 2, r.address);
    part[8] = r.data.length;
    part.set(r.data, 9);
    part[9 + r.data.length] = r.rssiDbm & 0xff;
    body.push(...part);
  }
  return finishEvent(body, SUBEVENT_ADVERTISING_REPORT, reports.length);
}

/**
 * An LE Extended Advertising Report event. Event type defaults to a legacy ADV_NONCONN_IND
 * PDU (0x0010), primary PHY LE 1M, no secondary PHY, SID 0xFF (none).
 */
export function encodeExtendedAdvertisingReportEvent(reports: readonly ReportInput[]): Uint8Array {
  const body: number[] = [];
  for (const r of reports) {
    const part = new Uint8Array(24 + r.data.length);
    const eventType = r.eventType ?? 0x0010;
    part[0] = eventType & 0xff;
    part[1] = eventType >> 8;
    part[2] = r.addressType ?? ADDRESS_RANDOM;
    writeAddress(part, 3, r.address);
    part[9] = 0x01; // primary PHY: LE 1M
    part[10] = 0x00; // secondary PHY: none
    part[11] = 0xff; // advertising SID: none
    part[12] = (r.txPowerDbm ?? RSSI_NOT_AVAILABLE) & 0xff;
    part[13] = r.rssiDbm & 0xff;
    // [14..15] periodic advertising interval 0, [16] direct address type, [17..22] direct address
    part[23] = r.data.length;
    part.set(r.data, 24);
    body.push(...part);
  }
  return finishEvent(body, SUBEVENT_EXTENDED_ADVERTISING_REPORT, reports.length);
}
