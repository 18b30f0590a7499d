/**
 * The DP-3T advertisement of the pre-GAEN SDKs: flags, the 16-bit service UUID 0xFD68, and
 * 0xFD68 service data holding the 16-byte EphID (docs/protocols.md, Advertising payloads).
 */
import { CodecError } from "../core/errors.js";

/** DP-3T service, 16-bit UUID 0xFD68 (DP-3T SDK). */
export const DP3T_SERVICE_UUID16 = 0xfd68;
/** 02 01 1A | 03 03 68 FD | 13 16 68 FD <EphID 16>. */
export const DP3T_ADVERTISEMENT_BYTES = 27;
const EPHID_BYTES = 16;

/** Flags 0x1A, the complete UUID list and the service data header; the EphID follows. */
const HEADER = Uint8Array.of(0x02, 0x01, 0x1a, 0x03, 0x03, 0x68, 0xfd, 0x13, 0x16, 0x68, 0xfd);

/** The 27-byte legacy advertising data that broadcasts `ephid` (16 bytes). */
export function encodeDp3tAdvertisement(ephid: Uint8Array): Uint8Array {
  if (ephid.length !== EPHID_BYTES) {
    throw new CodecError(
      `DP-3T EphID must be ${EPHID_BYTES} bytes, got ${ephid.length}`,
      undefined,
      "E_LENGTH",
    );
  }
  const out = new Uint8Array(DP3T_ADVERTISEMENT_BYTES);
  out.set(HEADER, 0);
  out.set(ephid, HEADER.length);
  return out;
}

/**
 * The EphID of 0xFD68 service data, which must be exactly 16 bytes; the same view, checked.
 * `structureOffset`, the offset of its AD structure, goes into the error.
 */
export function decodeDp3tServiceData(
  serviceData: Uint8Array,
  structureOffset?: number,
): Uint8Array {
  if (serviceData.length !== EPHID_BYTES) {
    throw new CodecError(
      `DP-3T service data (0xfd68) must be a ${EPHID_BYTES}-byte EphID, got ${serviceData.length} bytes`,
      structureOffset,
      "E_DP3T_LENGTH",
    );
  }
  return serviceData;
}
