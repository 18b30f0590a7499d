/**
 * A `Sighting` is what a scanner reports: one received advertisement. This file holds the
 * object form and the JSON-lines file form
 * (`{"t": <unix s>, "protocol": "gaen", "rpi": "<hex>", "aem": "<hex>", "rssi": -67}`;
 * bluezone uses "id", dp3t "ephid").
 */
import { CodecError } from "../core/errors.js";
import { fromHex, toHex } from "../core/hex.js";
import { PROTOCOLS, type Protocol } from "../protocols/rolling-id-scheme.js";

export interface Sighting {
  /** Receiver time, ms since the Unix epoch. */
  readonly atMs: number;
  readonly protocol: Protocol;
  /** The rolling ID (GAEN RPI, DP-3T EphID, Bluezone ID). */
  readonly id: Uint8Array;
  /** GAEN only: the encrypted metadata. */
  readonly aem?: Uint8Array;
  readonly rssiDbm: number;
  /** TX power when the advertisement or the receiver knows it. */
  readonly txPowerDbm?: number;
  /** Advertising channel 37, 38 or 39, when known. */
  readonly channel?: number;
}

/** The JSON field that holds the ID, per protocol. */
export const ID_FIELD: Record<Protocol, "rpi" | "ephid" | "id"> = {
  gaen: "rpi",
  dp3t: "ephid",
  bluezone: "id",
};
const ID_BYTES: Record<Protocol, number> = { gaen: 16, dp3t: 16, bluezone: 12 };

/** The JSON-lines form of a sighting. */
export function sightingToJson(s: Sighting): Record<string, string | number> {
  const json: Record<string, string | number> = {
    t: s.atMs / 1000,
    protocol: s.protocol,
    [ID_FIELD[s.protocol]]: toHex(s.id),
  };
  if (s.aem) json.aem = toHex(s.aem);
  json.rssi = s.rssiDbm;
  if (s.txPowerDbm !== undefined) json.tx = s.txPowerDbm;
  if (s.channel !== undefined) json.channel = s.channel;
  return json;
}

/**
 * Parses one JSON line into a sighting. `where` names the line in errors
 * (e.g. "sightings.jsonl line 12"). Malformed input is a `CodecError` saying what is wrong.
 */
export function parseSighting(line: string, where: string): Sighting {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(line);
  } catch {
    throw new CodecError(`${where}: not valid JSON`, undefined, "E_SIGHTING");
  }
  const fail = (what: string): never => {
    throw new CodecError(`${where}: ${what}`, undefined, "E_SIGHTING");
  };
  if (typeof json !== "object" || json === null || Array.isArray(json)) fail("not a JSON object");
  const protocol = json.protocol as Protocol;
  if (!PROTOCOLS.includes(protocol))
    fail(`"protocol" must be one of ${PROTOCOLS.join(", ")}, got ${JSON.stringify(json.protocol)}`);
  const t = json.t;
  if (typeof t !== "number" || !Number.isFinite(t) || t < 0)
    fail(`"t" must be a time in unix seconds, got ${JSON.stringify(t)}`);
  const rssi = json.rssi;
  if (typeof rssi !== "number" || !Number.isFinite(rssi) || rssi < -127 || rssi > 126) {
    fail(`"rssi" must be a number of dBm in [-127, 126], got ${JSON.stringify(rssi)}`);
  }
  const idField = ID_FIELD[protocol];
  const idText = json[idField];
  if (typeof idText !== "string") fail(`a ${protocol} sighting needs "${idField}" as hex`);
  let id: Uint8Array;
  let aem: Uint8Array | undefined;
  try {
    id = fromHex(idText as string, `"${idField}"`, ID_BYTES[protocol]);
    if (json.aem !== undefined) {
      if (protocol !== "gaen") fail(`"aem" is only for gaen sightings`);
      aem = fromHex(String(json.aem), '"aem"', 4);
    }
  } catch (error) {
    if (error instanceof CodecError && error.code === "E_SIGHTING") throw error;
    return fail((error as Error).message);
  }
  const sighting: { -readonly [K in keyof Sighting]: Sighting[K] } = {
    atMs: Math.round((t as number) * 1000),
    protocol,
    id,
    rssiDbm: rssi as number,
  };
  if (aem) sighting.aem = aem;
  if (json.tx !== undefined) {
    if (typeof json.tx !== "number" || json.tx < -128 || json.tx > 127)
      fail(`"tx" must be dBm in [-128, 127]`);
    sighting.txPowerDbm = json.tx as number;
  }
  if (json.channel !== undefined) {
    if (json.channel !== 37 && json.channel !== 38 && json.channel !== 39)
      fail(`"channel" must be 37, 38 or 39`);
    sighting.channel = json.channel as number;
  }
  return sighting;
}
