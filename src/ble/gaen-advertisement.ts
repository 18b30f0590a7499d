/**
 * The GAEN advertisement (Exposure Notification Bluetooth Specification v1.2, Google/Apple 2020):
 * flags, the 16-bit service UUID 0xFD6F, and 0xFD6F service data of RPI (16 bytes) || AEM (4 bytes).
 */
import { CodecError } from "../core/errors.js";

/** Exposure Notification service, 16-bit UUID 0xFD6F (BT spec v1.2). */
export const GAEN_SERVICE_UUID16 = 0xfd6f;
/** 02 01 1A | 03 03 6F FD | 17 16 6F FD <RPI 16> <AEM 4>. */
export const GAEN_ADVERTISEMENT_BYTES = 31;
/** RPI (16 bytes) followed by AEM (4 bytes). */
export const GAEN_SERVICE_DATA_BYTES = 20;
const RPI_BYTES = 16;
const AEM_BYTES = 4;

/**
 * Flags 0x1A (LE General Discoverable, simultaneous LE and BR/EDR controller and host),
 * the complete UUID list, and the service data header; the RPI and AEM follow.
 */
const HEADER = Uint8Array.of(0x02, 0x01, 0x1a, 0x03, 0x03, 0x6f, 0xfd, 0x17, 0x16, 0x6f, 0xfd);

/** The 31-byte legacy advertising data that broadcasts `rpi` (16 bytes) and `aem` (4 bytes). */
export function encodeGaenAdvertisement(rpi: Uint8Array, aem: Uint8Array): Uint8Array {
  if (rpi.length !== RPI_BYTES) {
    throw new CodecError(
      `GAEN RPI must be ${RPI_BYTES} bytes, got ${rpi.length}`,
      undefined,
      "E_LENGTH",
    );
  }
  if (aem.length !== AEM_BYTES) {
    throw new CodecError(
      `GAEN AEM must be ${AEM_BYTES} bytes, got ${aem.length}`,
      undefined,
      "E_LENGTH",
    );
  }
  const out = new Uint8Array(GAEN_ADVERTISEMENT_BYTES);
  out.set(HEADER, 0);
  out.set(rpi, HEADER.length);
  out.set(aem, HEADER.length + RPI_BYTES);
  return out;
}

/**
 * RPI and AEM (views) of 0xFD6F service data, which a scanner accepts only at exactly 20 bytes.
 * `structureOffset`, the offset of its AD structure, goes into the error.
 */
export function decodeGaenServiceData(
  serviceData: Uint8Array,
  structureOffset?: number,
): { rpi: Uint8Array; aem: Uint8Array } {
  if (serviceData.length !== GAEN_SERVICE_DATA_BYTES) {
    throw new CodecError(
      `GAEN service data (0xfd6f) must be ${GAEN_SERVICE_DATA_BYTES} bytes (RPI + AEM), got ${serviceData.length}`,
      structureOffset,
      "E_GAEN_LENGTH",
    );
  }
  return { rpi: serviceData.subarray(0, RPI_BYTES), aem: serviceData.subarray(RPI_BYTES) };
}
