/**
 * Bluezone (Vietnam) v2 rolling IDs, from its open-source Android module: a daily key chained
 * by SHA-256, 96 sub-keys a day from SHA-256(daily key || "bluzonesubkey"), and a 12-byte ID
 * taken from fixed byte positions of each sub-key. See docs/protocols.md, Bluezone.
 */
import { createHash } from "node:crypto";
import { KeyFileError } from "../core/errors.js";
import type { Random } from "../core/random.js";
import { sha256Short } from "./sha256.js";

export const BLUEZONE_KEY_BYTES = 32;
export const BLUEZONE_ID_BYTES = 12;
export const BLUEZONE_SLOTS_PER_DAY = 96;
/** 86400 s / 96 = 15 minutes. */
export const BLUEZONE_SLOT_MS = 86_400_000 / BLUEZONE_SLOTS_PER_DAY;
/** Spelled exactly so in the Bluezone source ("bluzone", no "e"). */
const SUBKEY_SALT = Buffer.from("bluzonesubkey", "ascii");
/** Byte positions of a sub-key that make up the BluezoneId. */
export const BLUEZONE_ID_POSITIONS = [0, 4, 8, 12, 16, 18, 20, 22, 24, 26, 28, 30] as const;

function checkDailyKey(dailyKey: Uint8Array): void {
  if (dailyKey.length !== BLUEZONE_KEY_BYTES) {
    throw new KeyFileError(
      `Bluezone daily key must be ${BLUEZONE_KEY_BYTES} bytes, got ${dailyKey.length}`,
      "E_KEY_LENGTH",
    );
  }
}

function sha256(...parts: Uint8Array[]): Buffer {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** D_{d+1} = SHA-256(D_d). */
export function nextBluezoneDailyKey(dailyKey: Uint8Array): Uint8Array {
  checkDailyKey(dailyKey);
  return new Uint8Array(sha256(dailyKey));
}

/** The daily key `days` steps down the chain. */
export function chainBluezoneDailyKey(dailyKey: Uint8Array, days: number): Uint8Array {
  checkDailyKey(dailyKey);
  let key = dailyKey;
  for (let i = 0; i < days; i++) key = nextBluezoneDailyKey(key);
  return key;
}

/**
 * The day's 96 BluezoneIds in slot order, as 96 * 12 bytes. The 97 hashes are one SHA-256
 * block each, done in JS (`sha256Short`): 8x faster than 97 `node:crypto` Hash objects.
 */
export function deriveBluezoneIds(dailyKey: Uint8Array): Uint8Array {
  checkDailyKey(dailyKey);
  const out = new Uint8Array(BLUEZONE_SLOTS_PER_DAY * BLUEZONE_ID_BYTES);
  const message = new Uint8Array(BLUEZONE_KEY_BYTES + SUBKEY_SALT.length);
  message.set(dailyKey, 0);
  message.set(SUBKEY_SALT, BLUEZONE_KEY_BYTES);
  const subKey = new Uint8Array(32);
  sha256Short(message, 0, message.length, subKey, 0);
  for (let slot = 0; slot < BLUEZONE_SLOTS_PER_DAY; slot++) {
    if (slot > 0) sha256Short(subKey, 0, 32, subKey, 0);
    for (let i = 0; i < BLUEZONE_ID_BYTES; i++)
      out[slot * BLUEZONE_ID_BYTES + i] = subKey[BLUEZONE_ID_POSITIONS[i]];
  }
  return out;
}

/** A fresh base key from the injected (cryptographic) randomness. */
export function newBluezoneDailyKey(random: Random): Uint8Array {
  return random.bytes(BLUEZONE_KEY_BYTES);
}
