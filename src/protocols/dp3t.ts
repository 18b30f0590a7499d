/**
 * DP-3T low-cost design (the pre-GAEN SDKs, white paper of 2020-04-12): day keys chained
 * by SHA-256, EphIDs from AES-256-CTR keyed by HMAC-SHA256(SK, "broadcast key").
 * See docs/protocols.md, DP-3T.
 */
import { createCipheriv, createHash, createHmac } from "node:crypto";
import { KeyFileError } from "../core/errors.js";
import type { Random } from "../core/random.js";

export const DP3T_KEY_BYTES = 32;
export const DP3T_EPHID_BYTES = 16;
/** EphIDs per day: one per 15-minute epoch. */
export const DP3T_EPOCHS_PER_DAY = 96;
export const DP3T_EPOCH_MS = 900_000;
const BROADCAST_KEY = Buffer.from("broadcast key", "ascii");
const ZERO_BLOCKS = Buffer.alloc(DP3T_EPOCHS_PER_DAY * DP3T_EPHID_BYTES);
const ZERO_IV = Buffer.alloc(16);

function checkDayKey(dayKey: Uint8Array): void {
  if (dayKey.length !== DP3T_KEY_BYTES) {
    throw new KeyFileError(
      `DP-3T day key must be ${DP3T_KEY_BYTES} bytes, got ${dayKey.length}`,
      "E_KEY_LENGTH",
    );
  }
}

/** SK_{t+1} = SHA-256(SK_t). */
export function nextDp3tDayKey(dayKey: Uint8Array): Uint8Array {
  checkDayKey(dayKey);
  return new Uint8Array(createHash("sha256").update(dayKey).digest());
}

/** The day key `days` steps down the chain from `dayKey`. */
export function chainDp3tDayKey(dayKey: Uint8Array, days: number): Uint8Array {
  let key = dayKey;
  checkDayKey(key);
  for (let i = 0; i < days; i++) key = nextDp3tDayKey(key);
  return key;
}

/** The day's 96 EphIDs in counter order (the matching order), as 96 * 16 bytes. */
export function deriveEphIds(dayKey: Uint8Array): Uint8Array {
  checkDayKey(dayKey);
  const prf = createHmac("sha256", dayKey).update(BROADCAST_KEY).digest();
  const cipher = createCipheriv("aes-256-ctr", prf, ZERO_IV);
  return new Uint8Array(cipher.update(ZERO_BLOCKS));
}

/** A broadcast order for one day: a Fisher-Yates permutation of the epochs drawn from `random`. */
export function shuffledEpochOrder(random: Random, count = DP3T_EPOCHS_PER_DAY): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** A fresh first day key from the injected (cryptographic) randomness. */
export function newDp3tDayKey(random: Random): Uint8Array {
  return random.bytes(DP3T_KEY_BYTES);
}
