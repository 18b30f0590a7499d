/**
 * The Bluezone v2 Android advertisement (docs/protocols.md, Advertising payloads): connectable,
 * so flags 0x06; the 16-bit service UUID 0x4E56; manufacturer data of company 0x22B5 holding the
 * 12-byte BluezoneId.
 */
import { CodecError } from "../core/errors.js";

/** Bluezone service, 16-bit UUID 0x4E56 (Bluezone Android module). */
export const BLUEZONE_SERVICE_UUID16 = 0x4e56;
/** Company id of Bluezone's manufacturer data, 0x22B5 (B5 22 on air). */
export const BLUEZONE_COMPANY_ID = 0x22b5;
/** 02 01 06 | 03 03 56 4E | 0F FF B5 22 <BluezoneId 12>. */
export const BLUEZONE_ADVERTISEMENT_BYTES = 23;
const ID_BYTES = 12;

/**
 * Flags 0x06 (LE General Discoverable, BR/EDR not supported), the complete UUID list and the
 * manufacturer data header; the ID follows.
 */
const HEADER = Uint8Array.of(0x02, 0x01, 0x06, 0x03, 0x03, 0x56, 0x4e, 0x0f, 0xff, 0xb5, 0x22);

/** The 23-byte legacy advertising data that broadcasts the BluezoneId `id` (12 bytes). */
export function encodeBluezoneAdvertisement(id: Uint8Array): Uint8Array {
  if (id.length !== ID_BYTES) {
    throw new CodecError(
      `BluezoneId must be ${ID_BYTES} bytes, got ${id.length}`,
      undefined,
      "E_LENGTH",
    );
  }
  const out = new Uint8Array(BLUEZONE_ADVERTISEMENT_BYTES);
  out.set(HEADER, 0);
  out.set(id, HEADER.length);
  return out;
}

/**
 * The BluezoneId of company 0x22B5's manufacturer data (after the company id), which must be
 * exactly 12 bytes; the same view, checked. `structureOffset` goes into the error.
 */
export function decodeBluezoneManufacturerData(
  data: Uint8Array,
  structureOffset?: number,
): Uint8Array {
  if (data.length !== ID_BYTES) {
    throw new CodecError(
      `Bluezone manufacturer data (company 0x22b5) must be a ${ID_BYTES}-byte ID, got ${data.length} bytes`,
      structureOffset,
      "E_BLUEZONE_LENGTH",
    );
  }
  return data;
}
