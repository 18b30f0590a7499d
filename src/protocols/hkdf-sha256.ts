/**
 * HKDF-SHA256 (RFC 5869) specialised for short keys, in plain JS.
 *
 * Why not `crypto.hkdfSync`: each call crosses into OpenSSL and costs ~8 µs here, more than
 * the AES work of a whole GAEN key (144 blocks, ~1 µs). With the all-zero salt that GAEN uses
 * the HMAC pad states of the extract step are constants, so a key costs six SHA-256
 * compressions in JS (~1 µs) and no crypto object at all. Verified against `hkdfSync` in tests.
 */

import { compress, IV, W } from "./sha256.js";

/** The state after compressing one 64-byte block made of `key` XOR `pad` (HMAC key block). */
function padState(keyWords: Int32Array, keyWordCount: number, pad: number): Int32Array {
  const pad32 = pad * 0x01010101;
  for (let i = 0; i < 16; i++) W[i] = (i < keyWordCount ? keyWords[i] : 0) ^ pad32;
  const out = new Int32Array(8);
  compress(IV, out);
  return out;
}

const NO_KEY = new Int32Array(0);
// HMAC with a 32-byte all-zero key (HKDF's "no salt"): the pad states never change.
const ZERO_SALT_INNER = padState(NO_KEY, 0, 0x36);
const ZERO_SALT_OUTER = padState(NO_KEY, 0, 0x5c);

const prk = new Int32Array(8);
const inner = new Int32Array(8);
const innerState = new Int32Array(8);
const outerState = new Int32Array(8);
const okm = new Int32Array(8);

/** W[0..15] = `words` (8 words of a previous digest) + SHA-256 padding for a message of `totalBytes`. */
function loadDigestBlock(words: Int32Array, totalBytes: number): void {
  for (let i = 0; i < 8; i++) W[i] = words[i];
  W[8] = 0x80000000 | 0;
  for (let i = 9; i < 15; i++) W[i] = 0;
  W[15] = totalBytes * 8;
}

/** HMAC inner + outer over the block already in W (message `messageBytes` long), from given pad states. */
function finishHmac(
  inState: Int32Array,
  outState: Int32Array,
  messageBytes: number,
  out: Int32Array,
): void {
  // The caller put the message and its padding in W for a 64 + messageBytes long inner message.
  W[15] = (64 + messageBytes) * 8;
  compress(inState, inner);
  loadDigestBlock(inner, 64 + 32);
  compress(outState, out);
}

/** Loads `ikm[offset .. offset+16)` (big-endian words) and SHA-256 padding into W. */
function loadKeyBlock(ikm: Uint8Array, offset: number): void {
  for (let i = 0; i < 4; i++) {
    const o = offset + 4 * i;
    W[i] = (ikm[o] << 24) | (ikm[o + 1] << 16) | (ikm[o + 2] << 8) | ikm[o + 3];
  }
  W[4] = 0x80000000 | 0;
  for (let i = 5; i < 16; i++) W[i] = 0;
}

/** A prepared HKDF "info" string (at most 54 bytes, output at most 32 bytes: one expand block). */
export interface HkdfInfo {
  readonly words: Int32Array;
  readonly byteLength: number;
}

/** Prepares an info string once (e.g. "EN-RPIK"). */
export function hkdfInfo(info: string): HkdfInfo {
  const bytes = Buffer.from(info, "utf8");
  if (bytes.length > 54) throw new RangeError("hkdfInfo: info longer than 54 bytes");
  const block = new Uint8Array(64);
  block.set(bytes, 0);
  block[bytes.length] = 0x01; // counter byte of T(1)
  block[bytes.length + 1] = 0x80; // SHA-256 padding
  const words = new Int32Array(16);
  for (let i = 0; i < 16; i++) {
    words[i] =
      (block[4 * i] << 24) | (block[4 * i + 1] << 16) | (block[4 * i + 2] << 8) | block[4 * i + 3];
  }
  return { words, byteLength: bytes.length + 1 };
}

function storeWords(words: Int32Array, out: Uint8Array, outOffset: number, length: number): void {
  for (let i = 0; i < length; i++)
    out[outOffset + i] = (words[i >> 2] >>> (24 - 8 * (i & 3))) & 0xff;
}

/**
 * HKDF-SHA256 with no salt over a 16-byte IKM (`ikm[ikmOffset..+16)`), one output of
 * `length` ≤ 32 bytes per info, written to `outs[k]` at `outOffsets[k]`. The extract and the
 * expand-key pad states are shared between the infos.
 */
export function hkdfSha256Key16(
  ikm: Uint8Array,
  ikmOffset: number,
  infos: readonly HkdfInfo[],
  length: number,
  outs: readonly Uint8Array[],
  outOffsets: readonly number[],
): void {
  // Extract: PRK = HMAC(zero salt, IKM).
  loadKeyBlock(ikm, ikmOffset);
  finishHmac(ZERO_SALT_INNER, ZERO_SALT_OUTER, 16, prk);
  // Expand key schedule for HMAC(PRK, ·).
  for (let i = 0; i < 16; i++) W[i] = (i < 8 ? prk[i] : 0) ^ 0x36363636;
  compress(IV, innerState);
  for (let i = 0; i < 16; i++) W[i] = (i < 8 ? prk[i] : 0) ^ 0x5c5c5c5c;
  compress(IV, outerState);
  for (let k = 0; k < infos.length; k++) {
    const info = infos[k];
    W.set(info.words);
    finishHmac(innerState, outerState, info.byteLength, okm);
    storeWords(okm, outs[k], outOffsets[k], length);
  }
}

/** Convenience: HKDF-SHA256(ikm (16 bytes), no salt, info, length ≤ 32). */
export function hkdfSha256(ikm: Uint8Array, info: HkdfInfo, length: number): Uint8Array {
  if (ikm.length !== 16) throw new RangeError("hkdfSha256: IKM must be 16 bytes");
  const out = new Uint8Array(length);
  hkdfSha256Key16(ikm, 0, [info], length, [out], [0]);
  return out;
}
