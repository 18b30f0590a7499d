/**
 * BLE advertising data: a sequence of AD structures `[length][AD type][data]`, where `length`
 * counts the type byte and the data (Core spec Vol 3 Part C §11). Data types and their formats
 * from the Core Specification Supplement Part A §1; type codes from Assigned Numbers §2.3.
 */
import { CodecError } from "../core/errors.js";

/** Legacy advertising PDUs carry at most 31 bytes of advertising data (Core spec Vol 6 Part B §2.3.1). */
export const LEGACY_ADVERTISING_DATA_MAX_BYTES = 31;
/** Extended advertising data as one HCI command carries at most 254 bytes (Core spec Vol 4 Part E §7.8.54). */
export const EXTENDED_ADVERTISING_DATA_MAX_BYTES = 254;

/** AD type codes (Bluetooth Assigned Numbers §2.3) of the structures with a typed form. */
export const AD_TYPE = {
  flags: 0x01,
  incompleteServiceUuids16: 0x02,
  completeServiceUuids16: 0x03,
  incompleteServiceUuids128: 0x06,
  completeServiceUuids128: 0x07,
  shortenedLocalName: 0x08,
  completeLocalName: 0x09,
  txPowerLevel: 0x0a,
  serviceData16: 0x16,
  manufacturerData: 0xff,
} as const;

/** Flags (0x01): one byte of bits such as LE General Discoverable (0x02) or BR/EDR Not Supported (0x04). */
export interface FlagsStructure {
  readonly type: "flags";
  readonly flags: number;
}

/** A list of 16-bit service UUIDs (0x02 incomplete, 0x03 complete). */
export interface ServiceUuids16Structure {
  readonly type: "serviceUuids16";
  readonly complete: boolean;
  readonly uuids: readonly number[];
}

/** A list of 128-bit service UUIDs (0x06 incomplete, 0x07 complete), as canonical lower-case strings. */
export interface ServiceUuids128Structure {
  readonly type: "serviceUuids128";
  readonly complete: boolean;
  readonly uuids: readonly string[];
}

/** The device name (0x08 shortened, 0x09 complete), UTF-8 on air. */
export interface LocalNameStructure {
  readonly type: "localName";
  readonly complete: boolean;
  readonly name: string;
}

/** TX Power Level (0x0A): the transmitted power, int8. */
export interface TxPowerStructure {
  readonly type: "txPower";
  readonly txPowerDbm: number;
}

/** Service Data for a 16-bit UUID (0x16). */
export interface ServiceData16Structure {
  readonly type: "serviceData16";
  readonly uuid: number;
  readonly data: Uint8Array;
}

/** Manufacturer Specific Data (0xFF): a company identifier and its data. */
export interface ManufacturerDataStructure {
  readonly type: "manufacturerData";
  readonly companyId: number;
  readonly data: Uint8Array;
}

/**
 * Any other AD type, kept as raw bytes so that it round-trips. A name that is not valid UTF-8
 * (such as a shortened name cut inside a character) also ends up here, with its own `adType`.
 */
export interface OtherAdStructure {
  readonly type: "other";
  readonly adType: number;
  readonly data: Uint8Array;
}

/** One AD structure. Byte fields of parsed structures are views into the parsed bytes. */
export type AdStructure =
  | FlagsStructure
  | ServiceUuids16Structure
  | ServiceUuids128Structure
  | LocalNameStructure
  | TxPowerStructure
  | ServiceData16Structure
  | ManufacturerDataStructure
  | OtherAdStructure;

export interface AdvertisingDataOptions {
  /** Allow extended advertising data (up to 254 bytes) instead of legacy (up to 31). */
  readonly extended?: boolean;
}

const HEX: string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

function maxBytes(options: AdvertisingDataOptions | undefined): number {
  return options?.extended
    ? EXTENDED_ADVERTISING_DATA_MAX_BYTES
    : LEGACY_ADVERTISING_DATA_MAX_BYTES;
}

function limitName(options: AdvertisingDataOptions | undefined): string {
  return options?.extended ? "extended" : "legacy";
}

/** Why a body of `bodyBytes` cannot be AD type `adType`, or `undefined` when it can. */
function bodyProblem(adType: number, bodyBytes: number): string | undefined {
  switch (adType) {
    case AD_TYPE.flags:
      return bodyBytes === 1 ? undefined : `flags must be 1 byte, got ${bodyBytes}`;
    case AD_TYPE.incompleteServiceUuids16:
    case AD_TYPE.completeServiceUuids16:
      return bodyBytes % 2 === 0
        ? undefined
        : `16-bit service UUID list has an odd length (${bodyBytes} bytes)`;
    case AD_TYPE.incompleteServiceUuids128:
    case AD_TYPE.completeServiceUuids128:
      return bodyBytes % 16 === 0
        ? undefined
        : `128-bit service UUID list length ${bodyBytes} is not a multiple of 16`;
    case AD_TYPE.txPowerLevel:
      return bodyBytes === 1 ? undefined : `TX power level must be 1 byte, got ${bodyBytes}`;
    case AD_TYPE.serviceData16:
      return bodyBytes >= 2
        ? undefined
        : `16-bit service data needs at least 2 bytes (the UUID), got ${bodyBytes}`;
    case AD_TYPE.manufacturerData:
      return bodyBytes >= 2
        ? undefined
        : `manufacturer data needs at least 2 bytes (the company id), got ${bodyBytes}`;
    default:
      return undefined;
  }
}

/** The canonical string of the little-endian 128-bit UUID at `bytes[at..at+16)`. */
function uuid128ToString(bytes: Uint8Array, at: number): string {
  let s = "";
  for (let k = 15; k >= 0; k--) {
    s += HEX[bytes[at + k]];
    if (k === 12 || k === 10 || k === 8 || k === 6) s += "-";
  }
  return s;
}

function parseStructure(
  bytes: Uint8Array,
  adType: number,
  start: number,
  end: number,
): AdStructure {
  switch (adType) {
    case AD_TYPE.flags:
      return { type: "flags", flags: bytes[start] };
    case AD_TYPE.incompleteServiceUuids16:
    case AD_TYPE.completeServiceUuids16: {
      const uuids: number[] = [];
      for (let i = start; i < end; i += 2) uuids.push(bytes[i] | (bytes[i + 1] << 8));
      return { type: "serviceUuids16", complete: adType === AD_TYPE.completeServiceUuids16, uuids };
    }
    case AD_TYPE.incompleteServiceUuids128:
    case AD_TYPE.completeServiceUuids128: {
      const uuids: string[] = [];
      for (let i = start; i < end; i += 16) uuids.push(uuid128ToString(bytes, i));
      return {
        type: "serviceUuids128",
        complete: adType === AD_TYPE.completeServiceUuids128,
        uuids,
      };
    }
    case AD_TYPE.shortenedLocalName:
    case AD_TYPE.completeLocalName: {
      const data = bytes.subarray(start, end);
      try {
        return {
          type: "localName",
          complete: adType === AD_TYPE.completeLocalName,
          name: utf8Decoder.decode(data),
        };
      } catch {
        return { type: "other", adType, data };
      }
    }
    case AD_TYPE.txPowerLevel:
      return { type: "txPower", txPowerDbm: (bytes[start] << 24) >> 24 };
    case AD_TYPE.serviceData16:
      return {
        type: "serviceData16",
        uuid: bytes[start] | (bytes[start + 1] << 8),
        data: bytes.subarray(start + 2, end),
      };
    case AD_TYPE.manufacturerData:
      return {
        type: "manufacturerData",
        companyId: bytes[start] | (bytes[start + 1] << 8),
        data: bytes.subarray(start + 2, end),
      };
    default:
      return { type: "other", adType, data: bytes.subarray(start, end) };
  }
}

/**
 * The AD structures of `bytes`. Trailing zero padding is allowed and ignored (Vol 3 Part C §11).
 * Throws a `CodecError` at the offset of the faulty structure's length byte when a structure
 * runs past the end, has a body of the wrong size for its type, or a zero length is followed
 * by anything but zeros; and when `bytes` is longer than the legacy (or extended) maximum.
 */
export function parseAdvertisingData(
  bytes: Uint8Array,
  options?: AdvertisingDataOptions,
): AdStructure[] {
  const n = bytes.length;
  const limit = maxBytes(options);
  if (n > limit) {
    throw new CodecError(
      `advertising data is ${n} bytes, more than the ${limitName(options)} maximum of ${limit}`,
      limit,
      "E_AD_TOO_LONG",
    );
  }
  const structures: AdStructure[] = [];
  let at = 0;
  while (at < n) {
    const length = bytes[at];
    if (length === 0) {
      for (let j = at + 1; j < n; j++) {
        if (bytes[j] !== 0) {
          throw new CodecError(
            `a length-0 AD structure starts zero padding, which must run to the end, but byte ${j} is 0x${HEX[bytes[j]]}`,
            at,
            "E_AD_PADDING",
          );
        }
      }
      break;
    }
    const end = at + 1 + length;
    if (end > n) {
      throw new CodecError(
        `AD structure of length ${length} runs past the end of the ${n}-byte data (truncated)`,
        at,
        "E_AD_TRUNCATED",
      );
    }
    const adType = bytes[at + 1];
    const problem = bodyProblem(adType, length - 1);
    if (problem !== undefined)
      throw new CodecError(`AD type 0x${HEX[adType]}: ${problem}`, at, "E_AD_BODY");
    structures.push(parseStructure(bytes, adType, at + 2, end));
    at = end;
  }
  return structures;
}

function invalid(index: number, structure: AdStructure, problem: string): CodecError {
  return new CodecError(
    `AD structure ${index} (${structure.type}): ${problem}`,
    undefined,
    "E_AD_INVALID",
  );
}

function isUint(value: number, max: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= max;
}

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/** Writes the UUID string `uuid` little-endian at `out[at..at+16)`; false when it is not canonical. */
function writeUuid128(uuid: string, out: Uint8Array, at: number): boolean {
  if (uuid.length !== 36) return false;
  let k = 15;
  let i = 0;
  while (i < 36) {
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (uuid.charCodeAt(i) !== 45) return false;
      i++;
      continue;
    }
    const hi = hexDigit(uuid.charCodeAt(i));
    const lo = hexDigit(uuid.charCodeAt(i + 1));
    if (hi < 0 || lo < 0) return false;
    out[at + k--] = (hi << 4) | lo;
    i += 2;
  }
  return true;
}

/** A 2-byte little-endian id followed by `data`. */
function withId16(id: number, data: Uint8Array): Uint8Array {
  const body = new Uint8Array(2 + data.length);
  body[0] = id & 0xff;
  body[1] = id >> 8;
  body.set(data, 2);
  return body;
}

/** The AD type and the body (data after the type byte) of `structure`, checked. */
function encodeBody(structure: AdStructure, index: number): { adType: number; body: Uint8Array } {
  switch (structure.type) {
    case "flags":
      if (!isUint(structure.flags, 0xff))
        throw invalid(index, structure, `flags ${structure.flags} is not a byte`);
      return { adType: AD_TYPE.flags, body: Uint8Array.of(structure.flags) };
    case "serviceUuids16": {
      const body = new Uint8Array(structure.uuids.length * 2);
      structure.uuids.forEach((uuid, k) => {
        if (!isUint(uuid, 0xffff)) throw invalid(index, structure, `${uuid} is not a 16-bit UUID`);
        body[2 * k] = uuid & 0xff;
        body[2 * k + 1] = uuid >> 8;
      });
      const adType = structure.complete
        ? AD_TYPE.completeServiceUuids16
        : AD_TYPE.incompleteServiceUuids16;
      return { adType, body };
    }
    case "serviceUuids128": {
      const body = new Uint8Array(structure.uuids.length * 16);
      structure.uuids.forEach((uuid, k) => {
        if (!writeUuid128(uuid, body, 16 * k)) {
          throw invalid(
            index,
            structure,
            `${JSON.stringify(uuid)} is not a UUID like "0000fd6f-0000-1000-8000-00805f9b34fb"`,
          );
        }
      });
      const adType = structure.complete
        ? AD_TYPE.completeServiceUuids128
        : AD_TYPE.incompleteServiceUuids128;
      return { adType, body };
    }
    case "localName":
      return {
        adType: structure.complete ? AD_TYPE.completeLocalName : AD_TYPE.shortenedLocalName,
        body: utf8Encoder.encode(structure.name),
      };
    case "txPower": {
      const dbm = structure.txPowerDbm;
      if (!Number.isInteger(dbm) || dbm < -128 || dbm > 127) {
        throw invalid(index, structure, `TX power ${dbm} dBm is not an int8`);
      }
      return { adType: AD_TYPE.txPowerLevel, body: Uint8Array.of(dbm & 0xff) };
    }
    case "serviceData16":
      if (!isUint(structure.uuid, 0xffff))
        throw invalid(index, structure, `${structure.uuid} is not a 16-bit UUID`);
      return { adType: AD_TYPE.serviceData16, body: withId16(structure.uuid, structure.data) };
    case "manufacturerData":
      if (!isUint(structure.companyId, 0xffff)) {
        throw invalid(index, structure, `${structure.companyId} is not a 16-bit company id`);
      }
      return {
        adType: AD_TYPE.manufacturerData,
        body: withId16(structure.companyId, structure.data),
      };
    case "other": {
      if (!isUint(structure.adType, 0xff))
        throw invalid(index, structure, `AD type ${structure.adType} is not a byte`);
      // Never write what the parser would reject.
      const problem = bodyProblem(structure.adType, structure.data.length);
      if (problem !== undefined) throw invalid(index, structure, problem);
      return { adType: structure.adType, body: structure.data };
    }
  }
}

/**
 * The advertising data bytes of `structures`, in order. Throws a `CodecError` when a field is
 * out of range or the total exceeds the legacy (or extended) maximum.
 */
export function encodeAdvertisingData(
  structures: readonly AdStructure[],
  options?: AdvertisingDataOptions,
): Uint8Array {
  const limit = maxBytes(options);
  const out = new Uint8Array(limit);
  let at = 0;
  for (let index = 0; index < structures.length; index++) {
    const { adType, body } = encodeBody(structures[index], index);
    if (at + 2 + body.length > limit) {
      throw new CodecError(
        `advertising data does not fit: AD structure ${index} (${structures[index].type}) ends at byte ${at + 2 + body.length}, over the ${limitName(options)} maximum of ${limit}`,
        undefined,
        "E_AD_TOO_LONG",
      );
    }
    out[at] = body.length + 1;
    out[at + 1] = adType;
    out.set(body, at + 2);
    at += 2 + body.length;
  }
  return out.slice(0, at);
}
