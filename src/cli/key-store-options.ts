/**
 * What the commands that advertise from a key store (`hci commands`, `firmware schedule`) share:
 * the --protocol / --key-store / --tx-power options, loading the store for a protocol, a time
 * option, and saving the keys they had to add.
 */
import { ConfigError } from "../core/errors.js";
import { loadKeyStore, saveKeyStore } from "../io/key-store-file.js";
import { GAEN_DEFAULT_TX_POWER_DBM } from "../protocols/gaen.js";
import type { KeyStore } from "../protocols/key-store.js";
import { PROTOCOLS, utcDate } from "../protocols/rolling-id-scheme.js";
import { parseInteger, parseIsoTimeMs } from "./parse.js";

/** --protocol of a command that reads a key store. */
export const keyStoreProtocolOption = {
  alias: "p",
  type: "string",
  choices: PROTOCOLS,
  demandOption: true,
  describe: "Rolling-ID protocol (must be the key store's)",
} as const;

/** --key-store, required; `describe` says what the command adds to it. */
export function keyStoreOption(describe: string) {
  return { alias: "k", type: "string", demandOption: true, describe } as const;
}

/** --tx-power (GAEN metadata); `what` names whose power it is, e.g. "the beacon's TX power,". */
export function txPowerOption(what: string) {
  return {
    type: "string",
    describe: `gaen: ${what} written in the encrypted metadata, dBm [default: ${GAEN_DEFAULT_TX_POWER_DBM}]`,
  } as const;
}

/** Parses --tx-power: dBm a controller can send, or the GAEN default. */
export function parseTxPower(text: string | undefined): number {
  return text === undefined
    ? GAEN_DEFAULT_TX_POWER_DBM
    : parseInteger(text, "--tx-power (dBm)", -127, 20);
}

/** Loads the key store and checks it holds `protocol`'s keys. */
export function loadProtocolKeyStore(path: string, protocol: string): KeyStore {
  const store = loadKeyStore(path);
  if (store.protocol !== protocol)
    throw new ConfigError(
      `key store ${path} holds ${store.protocol} keys, not ${protocol}`,
      "E_PROTOCOL",
    );
  return store;
}

/** Parses --at / --from: an ISO date-time (UTC without a zone), or now. */
export function parseTimeOption(text: string | undefined, what: string, nowMs: number): number {
  if (text === undefined) return nowMs;
  const ms = parseIsoTimeMs(text);
  if (ms === undefined)
    throw new ConfigError(
      `${what} must be an ISO date or date-time such as 2026-11-28T09:00:00Z, got ${JSON.stringify(text)}`,
      "E_TIME",
    );
  return ms;
}

/** Saves keys made for days the store did not cover yet (GAEN keys must be kept to be published). */
export function saveAddedKeys(
  path: string,
  result: { store: KeyStore; added: readonly { day: number }[] },
): void {
  if (result.added.length === 0) return;
  saveKeyStore(path, result.store, { overwrite: true });
  const days = result.added.map((k) => utcDate(k.day));
  process.stderr.write(
    `added ${days.length === 1 ? `the key for ${days[0]}` : `keys for ${days[0]}..${days.at(-1)}`} to ${path}\n`,
  );
}
