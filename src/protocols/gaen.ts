/**
 * Google/Apple Exposure Notification, cryptography specification v1.2 (April 2020):
 * TEK schedule, RPIK/AEMK (HKDF-SHA256), RPIs (AES-128-ECB) and AEMs (AES-128-CTR).
 * Every function is a pure function of its inputs. See docs/protocols.md, GAEN keys and
 * derivations.
 */
import { createCipheriv } from "node:crypto";
import { CodecError, KeyFileError } from "../core/errors.js";
import type { Random } from "../core/random.js";
import { hkdfInfo, hkdfSha256Key16 } from "./hkdf-sha256.js";

/** Length of one EN interval (ENIN): 10 minutes. */
export const GAEN_INTERVAL_MS = 600_000;
/** Intervals covered by one TEK: 24 h. */
export const GAEN_ROLLING_PERIOD = 144;
export const GAEN_KEY_BYTES = 16;
export const GAEN_RPI_BYTES = 16;
export const GAEN_AEM_BYTES = 4;
/** Metadata version byte: major 01, minor 00 (crypto spec v1.2 §"Associated Encrypted Metadata"). */
export const GAEN_METADATA_VERSION = 0x40;
/** TX power written into the metadata when none is configured: the median of Google's calibration table (2020-06-13). */
export const GAEN_DEFAULT_TX_POWER_DBM = -24;

const RPIK_INFO = hkdfInfo("EN-RPIK");
const AEMK_INFO = hkdfInfo("EN-AEMK");
const BOTH_INFOS = [RPIK_INFO, AEMK_INFO];
// "EN-RPI" || 0x000000000000 || ENIN (uint32 LE)
const RPI_PREFIX = [0x45, 0x4e, 0x2d, 0x52, 0x50, 0x49];

/** ENIN: the 10-minute interval number of a time. */
export function enIntervalNumber(atMs: number): number {
  return Math.floor(atMs / GAEN_INTERVAL_MS);
}

/** The day-aligned rolling start interval of the TEK valid at `intervalNumber`. */
export function rollingStartFor(intervalNumber: number): number {
  return GAEN_ROLLING_PERIOD * Math.floor(intervalNumber / GAEN_ROLLING_PERIOD);
}

function checkKey(tek: Uint8Array, what = "TEK"): void {
  if (tek.length !== GAEN_KEY_BYTES) {
    throw new KeyFileError(
      `${what} must be ${GAEN_KEY_BYTES} bytes, got ${tek.length}`,
      "E_KEY_LENGTH",
    );
  }
}

/** RPIK = HKDF-SHA256(TEK, no salt, "EN-RPIK", 16). */
export function deriveRpik(tek: Uint8Array): Uint8Array {
  checkKey(tek);
  const out = new Uint8Array(16);
  hkdfSha256Key16(tek, 0, [RPIK_INFO], 16, [out], [0]);
  return out;
}

/** AEMK = HKDF-SHA256(TEK, no salt, "EN-AEMK", 16). */
export function deriveAemk(tek: Uint8Array): Uint8Array {
  checkKey(tek);
  const out = new Uint8Array(16);
  hkdfSha256Key16(tek, 0, [AEMK_INFO], 16, [out], [0]);
  return out;
}

/** RPIK and AEMK together (the HKDF extract step is shared). */
export function deriveRpikAndAemk(tek: Uint8Array): { rpik: Uint8Array; aemk: Uint8Array } {
  checkKey(tek);
  const rpik = new Uint8Array(16);
  const aemk = new Uint8Array(16);
  hkdfSha256Key16(tek, 0, BOTH_INFOS, 16, [rpik, aemk], [0, 0]);
  return { rpik, aemk };
}

/** Fills `buffer` with the PaddedData blocks of intervals start .. start+count-1. */
function writePaddedData(buffer: Buffer, startInterval: number, count: number): void {
  for (let j = 0; j < count; j++) {
    const o = 16 * j;
    for (let i = 0; i < 6; i++) buffer[o + i] = RPI_PREFIX[i];
    buffer.fill(0, o + 6, o + 12);
    buffer.writeUInt32LE((startInterval + j) >>> 0, o + 12);
  }
}

function aesEcb(key: Uint8Array, blocks: Uint8Array): Buffer {
  const cipher = createCipheriv("aes-128-ecb", key, null);
  cipher.setAutoPadding(false);
  return cipher.update(blocks);
}

/**
 * The RPIs of `count` consecutive intervals from `startInterval`, as `count * 16` bytes, with
 * one AES-ECB call over all the blocks.
 */
export function deriveRpis(
  rpik: Uint8Array,
  startInterval: number,
  count = GAEN_ROLLING_PERIOD,
): Uint8Array {
  checkKey(rpik, "RPIK");
  const padded = Buffer.allocUnsafe(16 * count);
  writePaddedData(padded, startInterval, count);
  return new Uint8Array(aesEcb(rpik, padded));
}

/** RPI_j for one interval. */
export function deriveRpi(rpik: Uint8Array, intervalNumber: number): Uint8Array {
  return deriveRpis(rpik, intervalNumber, 1);
}

/**
 * Derives the RPIs of many TEKs at once: the matching and benchmark hot path. Per key it
 * costs one JS HKDF and one AES-ECB call over the key's blocks; PaddedData templates are
 * cached per rolling start (the keys of an export file span a few days).
 */
export class GaenRpiBatchDeriver {
  /** PaddedData templates by rolling start and count: keys of an export file share a few days. */
  private readonly templates = new Map<number, Buffer>();
  private readonly rpik = new Uint8Array(16);
  private lastKey = -1;
  private lastTemplate: Buffer = Buffer.alloc(0);

  private template(startInterval: number, count: number): Buffer {
    const cacheKey = startInterval * 256 + count;
    if (cacheKey === this.lastKey) return this.lastTemplate;
    let template = this.templates.get(cacheKey);
    if (!template) {
      if (this.templates.size >= 64) this.templates.clear();
      template = Buffer.allocUnsafe(16 * count);
      writePaddedData(template, startInterval, count);
      this.templates.set(cacheKey, template);
    }
    this.lastKey = cacheKey;
    this.lastTemplate = template;
    return template;
  }

  /**
   * RPIs of the key at `teks[16*k .. 16*k+16)`, intervals `startInterval .. +count`, written
   * to `out` at `outOffset` (count * 16 bytes).
   */
  deriveInto(
    teks: Uint8Array,
    keyIndex: number,
    startInterval: number,
    count: number,
    out: Uint8Array,
    outOffset: number,
  ): void {
    hkdfSha256Key16(teks, 16 * keyIndex, [RPIK_INFO], 16, [this.rpik], [0]);
    out.set(aesEcb(this.rpik, this.template(startInterval, count)), outOffset);
  }

  /**
   * RPIs of `keyCount` TEKs packed in `teks`, each covering `periods[k]` (default 144)
   * intervals from `startIntervals[k]`. Returns key-major RPIs, `GAEN_ROLLING_PERIOD * 16`
   * bytes per key (unused tail bytes of shorter keys are zero).
   */
  deriveAll(
    teks: Uint8Array,
    startIntervals: ArrayLike<number>,
    periods?: ArrayLike<number>,
    out?: Uint8Array,
  ): Uint8Array {
    const keyCount = startIntervals.length;
    if (teks.length !== keyCount * 16) {
      throw new KeyFileError(
        `expected ${keyCount} keys of 16 bytes, got ${teks.length} bytes`,
        "E_KEY_LENGTH",
      );
    }
    const stride = GAEN_ROLLING_PERIOD * 16;
    const result = out ?? new Uint8Array(keyCount * stride);
    for (let k = 0; k < keyCount; k++) {
      const count = periods ? Math.min(periods[k], GAEN_ROLLING_PERIOD) : GAEN_ROLLING_PERIOD;
      this.deriveInto(teks, k, startIntervals[k], count, result, k * stride);
    }
    return result;
  }
}

/** GAEN metadata: version byte, TX power (int8 dBm), two reserved bytes. */
export interface GaenMetadata {
  readonly version: number;
  readonly txPowerDbm: number;
}

/** Encodes the 4 metadata bytes. TX power must be an integer in [-128, 127] dBm. */
export function encodeMetadata(txPowerDbm: number, version = GAEN_METADATA_VERSION): Uint8Array {
  if (!Number.isInteger(txPowerDbm) || txPowerDbm < -128 || txPowerDbm > 127) {
    throw new CodecError(
      `TX power must be an integer dBm in [-128, 127], got ${txPowerDbm}`,
      undefined,
      "E_TX_POWER",
    );
  }
  return Uint8Array.of(version & 0xff, txPowerDbm & 0xff, 0, 0);
}

/** Decodes the 4 metadata bytes. */
export function decodeMetadata(metadata: Uint8Array): GaenMetadata {
  if (metadata.length !== 4)
    throw new CodecError(`GAEN metadata must be 4 bytes, got ${metadata.length}`);
  return { version: metadata[0], txPowerDbm: (metadata[1] << 24) >> 24 };
}

/**
 * AEM = AES-128-CTR(AEMK, IV = RPI, metadata). For 4 bytes this is metadata XOR the first
 * 4 bytes of AES-ECB(AEMK, RPI); the same operation decrypts.
 */
export function cryptAem(aemk: Uint8Array, rpi: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(aemk, "AEMK");
  if (rpi.length !== GAEN_RPI_BYTES)
    throw new CodecError(`RPI must be 16 bytes, got ${rpi.length}`);
  if (data.length !== GAEN_AEM_BYTES)
    throw new CodecError(`AEM must be 4 bytes, got ${data.length}`);
  const stream = aesEcb(aemk, rpi);
  return Uint8Array.of(
    data[0] ^ stream[0],
    data[1] ^ stream[1],
    data[2] ^ stream[2],
    data[3] ^ stream[3],
  );
}

/** AEMs for many RPIs under one AEMK, with one AES call: `rpis` is n*16 bytes, the result n*4. */
export function cryptAems(aemk: Uint8Array, rpis: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(aemk, "AEMK");
  const n = rpis.length / 16;
  if (!Number.isInteger(n) || data.length !== 4 * n) {
    throw new CodecError(
      `expected n RPIs of 16 bytes and n AEMs of 4 bytes, got ${rpis.length} and ${data.length}`,
    );
  }
  const stream = aesEcb(aemk, rpis);
  const out = new Uint8Array(4 * n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < 4; i++) out[4 * j + i] = data[4 * j + i] ^ stream[16 * j + i];
  }
  return out;
}

/** A fresh TEK from the injected (cryptographic) randomness. */
export function newTek(random: Random): Uint8Array {
  return random.bytes(GAEN_KEY_BYTES);
}
