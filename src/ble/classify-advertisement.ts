/**
 * Which proximity protocol an advertisement carries, judged by content (service data, company
 * id) rather than exact layout, so that real-world variants with other flags or extra
 * structures are recognised.
 */
import { toHex } from "../core/hex.js";
import {
  type AdStructure,
  type AdvertisingDataOptions,
  parseAdvertisingData,
} from "./advertising-data.js";
import {
  BLUEZONE_COMPANY_ID,
  BLUEZONE_SERVICE_UUID16,
  decodeBluezoneManufacturerData,
} from "./bluezone-advertisement.js";
import { DP3T_SERVICE_UUID16, decodeDp3tServiceData } from "./dp3t-advertisement.js";
import { decodeGaenServiceData, GAEN_SERVICE_UUID16 } from "./gaen-advertisement.js";

/** A parsed advertisement and the rolling ID it carries. Byte fields are views into the input. */
export type ClassifiedAdvertisement =
  | {
      readonly protocol: "gaen";
      readonly rpi: Uint8Array;
      readonly aem: Uint8Array;
      readonly structures: AdStructure[];
    }
  | { readonly protocol: "dp3t"; readonly ephid: Uint8Array; readonly structures: AdStructure[] }
  | { readonly protocol: "bluezone"; readonly id: Uint8Array; readonly structures: AdStructure[] }
  | { readonly protocol: "unknown"; readonly structures: AdStructure[] };

const BLUEZONE_ID_BYTES = 12;

/**
 * Parses `bytes` and finds the protocol: 0xFD6F service data is GAEN, 0xFD68 service data is
 * DP-3T, 12 bytes of company 0x22B5 manufacturer data are Bluezone; the first such structure
 * wins. Throws a `CodecError` (at that structure's offset) for GAEN or DP-3T service data of
 * the wrong length, and for 0x22B5 data of the wrong length next to Bluezone's UUID 0x4E56.
 */
export function classifyAdvertisement(
  bytes: Uint8Array,
  options?: AdvertisingDataOptions,
): ClassifiedAdvertisement {
  const structures = parseAdvertisingData(bytes, options);
  let found: ClassifiedAdvertisement | undefined;
  let hasBluezoneUuid = false;
  let badBluezone: { data: Uint8Array; offset: number } | undefined;
  // A parsed structure starts where the previous one ended: no padding comes between them.
  let offset = 0;
  for (const s of structures) {
    if (s.type === "serviceData16") {
      if (s.uuid === GAEN_SERVICE_UUID16) {
        const { rpi, aem } = decodeGaenServiceData(s.data, offset);
        found ??= { protocol: "gaen", rpi, aem, structures };
      } else if (s.uuid === DP3T_SERVICE_UUID16) {
        const ephid = decodeDp3tServiceData(s.data, offset);
        found ??= { protocol: "dp3t", ephid, structures };
      }
    } else if (s.type === "manufacturerData" && s.companyId === BLUEZONE_COMPANY_ID) {
      if (s.data.length === BLUEZONE_ID_BYTES)
        found ??= { protocol: "bluezone", id: s.data, structures };
      else badBluezone ??= { data: s.data, offset };
    } else if (s.type === "serviceUuids16" && s.uuids.includes(BLUEZONE_SERVICE_UUID16)) {
      hasBluezoneUuid = true;
    }
    offset += bytes[offset] + 1;
  }
  if (hasBluezoneUuid && badBluezone !== undefined) {
    decodeBluezoneManufacturerData(badBluezone.data, badBluezone.offset);
  }
  return found ?? { protocol: "unknown", structures };
}

/** An AD structure as JSON: byte fields in lower-case hex, 16-bit UUIDs as 4 hex digits. */
export type AdStructureJson =
  | { type: "flags"; flags: number }
  | { type: "serviceUuids16"; complete: boolean; uuids: string[] }
  | { type: "serviceUuids128"; complete: boolean; uuids: string[] }
  | { type: "localName"; complete: boolean; name: string }
  | { type: "txPower"; txPowerDbm: number }
  | { type: "serviceData16"; uuid: string; data: string }
  | { type: "manufacturerData"; companyId: number; data: string }
  | { type: "other"; adType: number; data: string };

/** A classified advertisement as JSON, as `proxkit adv decode` prints it. */
export interface AdvertisementJson {
  protocol: ClassifiedAdvertisement["protocol"];
  rpi?: string;
  aem?: string;
  ephid?: string;
  id?: string;
  structures: AdStructureJson[];
}

function uuid16Hex(uuid: number): string {
  return uuid.toString(16).padStart(4, "0");
}

/** `structure` with hex strings for bytes, ready for `JSON.stringify`. */
export function adStructureToJson(structure: AdStructure): AdStructureJson {
  switch (structure.type) {
    case "flags":
    case "txPower":
    case "localName":
      return { ...structure };
    case "serviceUuids16":
      return {
        type: structure.type,
        complete: structure.complete,
        uuids: structure.uuids.map(uuid16Hex),
      };
    case "serviceUuids128":
      return { type: structure.type, complete: structure.complete, uuids: [...structure.uuids] };
    case "serviceData16":
      return { type: structure.type, uuid: uuid16Hex(structure.uuid), data: toHex(structure.data) };
    case "manufacturerData":
      return { type: structure.type, companyId: structure.companyId, data: toHex(structure.data) };
    case "other":
      return { type: structure.type, adType: structure.adType, data: toHex(structure.data) };
  }
}

/** The rolling ID an advertisement carries (RPI, EphID or Bluezone ID), or `undefined`. */
export function rollingIdOf(classified: ClassifiedAdvertisement): Uint8Array | undefined {
  switch (classified.protocol) {
    case "gaen":
      return classified.rpi;
    case "dp3t":
      return classified.ephid;
    case "bluezone":
      return classified.id;
    default:
      return undefined;
  }
}

/** `classified` as tidy JSON: the protocol, its ID fields in hex, then the structures. */
export function advertisementToJson(classified: ClassifiedAdvertisement): AdvertisementJson {
  const structures = classified.structures.map(adStructureToJson);
  switch (classified.protocol) {
    case "gaen":
      return {
        protocol: "gaen",
        rpi: toHex(classified.rpi),
        aem: toHex(classified.aem),
        structures,
      };
    case "dp3t":
      return { protocol: "dp3t", ephid: toHex(classified.ephid), structures };
    case "bluezone":
      return { protocol: "bluezone", id: toHex(classified.id), structures };
    case "unknown":
      return { protocol: "unknown", structures };
  }
}
