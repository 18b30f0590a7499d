/**
 * noble hands over each advertisement already parsed (service data, manufacturer data, ...)
 * and not the bytes. Where the raw bytes are not reachable, this rebuilds equivalent
 * advertising data from those fields, which is what the protocol decoders need. noble keeps
 * no flags, so the rebuilt bytes have none.
 */
import { type AdStructure, encodeAdvertisingData } from "../../ble/advertising-data.js";
import { CodecError } from "../../core/errors.js";

/** The parsed advertisement noble reports (`peripheral.advertisement`). */
export interface NobleAdvertisement {
  localName?: string;
  txPowerLevel?: number;
  manufacturerData?: Uint8Array;
  serviceData?: { uuid: string; data: Uint8Array }[];
  serviceUuids?: string[];
}

const UUID16 = /^[0-9a-f]{1,4}$/i;

/** Advertising data equivalent to `advertisement`, or `undefined` if it cannot be encoded. */
export function advertisingDataOf(advertisement: NobleAdvertisement): Uint8Array | undefined {
  const structures: AdStructure[] = [];
  const uuids16 = (advertisement.serviceUuids ?? [])
    .filter((uuid) => UUID16.test(uuid))
    .map((uuid) => Number.parseInt(uuid, 16));
  if (uuids16.length > 0)
    structures.push({ type: "serviceUuids16", complete: true, uuids: uuids16 });
  for (const { uuid, data } of advertisement.serviceData ?? []) {
    if (UUID16.test(uuid))
      structures.push({ type: "serviceData16", uuid: Number.parseInt(uuid, 16), data });
  }
  const manufacturer = advertisement.manufacturerData;
  if (manufacturer && manufacturer.length >= 2) {
    structures.push({
      type: "manufacturerData",
      companyId: manufacturer[0] | (manufacturer[1] << 8),
      data: manufacturer.subarray(2),
    });
  }
  if (typeof advertisement.txPowerLevel === "number")
    structures.push({ type: "txPower", txPowerDbm: advertisement.txPowerLevel });
  if (advertisement.localName)
    structures.push({ type: "localName", complete: true, name: advertisement.localName });
  try {
    // A scan response merged in by noble can make the sum exceed 31 bytes.
    return encodeAdvertisingData(structures, { extended: true });
  } catch (error) {
    if (error instanceof CodecError) return undefined;
    throw error;
  }
}

/** "aa:bb:cc:dd:ee:ff" as 6 bytes, most significant first; all zeros when noble has none. */
export function addressBytes(address: string | undefined): Uint8Array {
  const bytes = new Uint8Array(6);
  const parts = address?.split(":");
  if (parts?.length !== 6) return bytes;
  for (let i = 0; i < 6; i++) {
    const byte = Number.parseInt(parts[i], 16);
    if (!(byte >= 0 && byte <= 255)) return new Uint8Array(6);
    bytes[i] = byte;
  }
  return bytes;
}
