/**
 * Named benchmark workloads. Each prepares its input once, then `step()` does one batch of
 * work and returns how many operations it did (the unit is given by `unit`).
 */
import { createCipheriv, hkdfSync } from "node:crypto";
import { encodeBluezoneAdvertisement } from "../../src/ble/bluezone-advertisement.js";
import { classifyAdvertisement } from "../../src/ble/classify-advertisement.js";
import { encodeDp3tAdvertisement } from "../../src/ble/dp3t-advertisement.js";
import { encodeGaenAdvertisement } from "../../src/ble/gaen-advertisement.js";
import { SeededRandom } from "../../src/core/random.js";
import { deriveBluezoneIds } from "../../src/protocols/bluezone.js";
import { deriveEphIds } from "../../src/protocols/dp3t.js";
import { GAEN_ROLLING_PERIOD, GaenRpiBatchDeriver } from "../../src/protocols/gaen.js";

export interface Workload {
  readonly name: string;
  readonly describe: string;
  /** What one operation is. */
  readonly unit: string;
  /** A workload this one is compared with in the same run. */
  readonly baseline?: string;
  /** Builds the input; returns the batch function. */
  setup(): () => number;
}

const GAEN_START = 2642976;
const KEYS_PER_BATCH = 1000;

function randomKeys(count: number, bytes: number, seed: number): Uint8Array {
  return new SeededRandom(seed).bytes(count * bytes);
}

export const WORKLOADS: readonly Workload[] = [
  {
    name: "gaen.rpi.derive.straightforward",
    describe:
      "GAEN RPIs the straightforward Node way: hkdfSync + one AES-ECB cipher per key over its 144 blocks (baseline)",
    unit: "RPI",
    setup() {
      const teks = randomKeys(KEYS_PER_BATCH, 16, 1);
      const padded = Buffer.alloc(16 * GAEN_ROLLING_PERIOD);
      for (let j = 0; j < GAEN_ROLLING_PERIOD; j++) {
        padded.write("EN-RPI", 16 * j, "ascii");
        padded.writeUInt32LE(GAEN_START + j, 16 * j + 12);
      }
      let sink = 0;
      return () => {
        for (let k = 0; k < KEYS_PER_BATCH; k++) {
          const rpik = hkdfSync(
            "sha256",
            teks.subarray(16 * k, 16 * k + 16),
            Buffer.alloc(0),
            "EN-RPIK",
            16,
          );
          const cipher = createCipheriv("aes-128-ecb", Buffer.from(rpik), null);
          cipher.setAutoPadding(false);
          sink ^= cipher.update(padded)[0];
        }
        return KEYS_PER_BATCH * GAEN_ROLLING_PERIOD + (sink & 0);
      };
    },
  },
  {
    name: "gaen.rpi.derive",
    describe:
      "GAEN RPIs with proxkit's batch deriver (JS HKDF with precomputed pad states, one AES-ECB call per key)",
    unit: "RPI",
    baseline: "gaen.rpi.derive.straightforward",
    setup() {
      const teks = randomKeys(KEYS_PER_BATCH, 16, 2);
      const starts = new Array<number>(KEYS_PER_BATCH).fill(GAEN_START);
      const out = new Uint8Array(KEYS_PER_BATCH * GAEN_ROLLING_PERIOD * 16);
      const deriver = new GaenRpiBatchDeriver();
      return () => {
        deriver.deriveAll(teks, starts, undefined, out);
        return KEYS_PER_BATCH * GAEN_ROLLING_PERIOD;
      };
    },
  },
  {
    name: "dp3t.day.derive",
    describe: "DP-3T days of 96 EphIDs (HMAC + AES-256-CTR over 96 blocks)",
    unit: "day",
    setup() {
      const keys = randomKeys(KEYS_PER_BATCH, 32, 3);
      return () => {
        for (let k = 0; k < KEYS_PER_BATCH; k++) deriveEphIds(keys.subarray(32 * k, 32 * k + 32));
        return KEYS_PER_BATCH;
      };
    },
  },
  {
    name: "bluezone.day.derive",
    describe: "Bluezone days of 96 IDs (97 SHA-256 each)",
    unit: "day",
    setup() {
      const keys = randomKeys(KEYS_PER_BATCH, 32, 4);
      return () => {
        for (let k = 0; k < KEYS_PER_BATCH; k++)
          deriveBluezoneIds(keys.subarray(32 * k, 32 * k + 32));
        return KEYS_PER_BATCH;
      };
    },
  },
  {
    name: "adv.decode",
    describe: "Classify raw advertising data (a mix of GAEN, DP-3T, Bluezone and unknown frames)",
    unit: "advertisement",
    setup() {
      const random = new SeededRandom(5);
      const frames: Uint8Array[] = [];
      for (let i = 0; i < 256; i++) {
        const kind = i % 4;
        if (kind === 0) frames.push(encodeGaenAdvertisement(random.bytes(16), random.bytes(4)));
        else if (kind === 1) frames.push(encodeDp3tAdvertisement(random.bytes(16)));
        else if (kind === 2) frames.push(encodeBluezoneAdvertisement(random.bytes(12)));
        else
          frames.push(
            Uint8Array.of(
              0x02,
              0x01,
              0x06,
              0x0a,
              0xff,
              0x4c,
              0x00,
              ...random.bytes(7),
              0x02,
              0x0a,
              0xf4,
            ),
          );
      }
      let sink = 0;
      return () => {
        for (let i = 0; i < 10_000; i++)
          sink ^= classifyAdvertisement(frames[i & 255]).protocol.length;
        return 10_000 + (sink & 0);
      };
    },
  },
];
