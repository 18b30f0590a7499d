/**
 * The three rolling-ID protocols behind one `RollingIdScheme` interface, and `schemeFor`
 * to pick one by name.
 */
import { encodeBluezoneAdvertisement } from "../ble/bluezone-advertisement.js";
import { encodeDp3tAdvertisement } from "../ble/dp3t-advertisement.js";
import { encodeGaenAdvertisement } from "../ble/gaen-advertisement.js";
import { ConfigError } from "../core/errors.js";
import type { Random } from "../core/random.js";
import {
  BLUEZONE_ID_BYTES,
  BLUEZONE_KEY_BYTES,
  BLUEZONE_SLOT_MS,
  BLUEZONE_SLOTS_PER_DAY,
  deriveBluezoneIds,
  nextBluezoneDailyKey,
} from "./bluezone.js";
import {
  DP3T_EPHID_BYTES,
  DP3T_EPOCH_MS,
  DP3T_EPOCHS_PER_DAY,
  DP3T_KEY_BYTES,
  deriveEphIds,
  nextDp3tDayKey,
} from "./dp3t.js";
import {
  cryptAem,
  deriveRpikAndAemk,
  deriveRpis,
  encodeMetadata,
  GAEN_INTERVAL_MS,
  GAEN_KEY_BYTES,
  GAEN_ROLLING_PERIOD,
  GAEN_RPI_BYTES,
} from "./gaen.js";
import {
  type AdvertisementMeta,
  type DayKey,
  MS_PER_DAY,
  PROTOCOLS,
  type Protocol,
  type RollingId,
  type RollingIdScheme,
} from "./rolling-id-scheme.js";

interface DayIds {
  /** All IDs of the day, slot-major. */
  readonly ids: Uint8Array;
  /** GAEN only: the key's AEMK. */
  readonly aemk?: Uint8Array;
}

/**
 * Shared shape of the three schemes: a day of fixed-length slots whose IDs are derived at
 * once per key (one crypto call) and cached per key object.
 */
function slotScheme(spec: {
  protocol: Protocol;
  slotMs: number;
  slotsPerDay: number;
  idBytes: number;
  keyBytes: number;
  shuffledBroadcast: boolean;
  chainedKeys: boolean;
  deriveDay(key: DayKey): DayIds;
  chainStep(previous: Uint8Array, random: Random): Uint8Array;
  payload(key: DayKey, dayIds: DayIds, id: RollingId, meta: AdvertisementMeta): Uint8Array;
}): RollingIdScheme {
  const cache = new WeakMap<Uint8Array, DayIds>();
  const dayIds = (key: DayKey): DayIds => {
    let entry = cache.get(key.key);
    if (!entry) {
      entry = spec.deriveDay(key);
      cache.set(key.key, entry);
    }
    return entry;
  };
  const rollingId = (key: DayKey, ids: Uint8Array, slot: number): RollingId => ({
    slot,
    startMs: key.day * MS_PER_DAY + slot * spec.slotMs,
    id: ids.slice(slot * spec.idBytes, (slot + 1) * spec.idBytes),
  });
  return {
    protocol: spec.protocol,
    slotMs: spec.slotMs,
    slotsPerDay: spec.slotsPerDay,
    idBytes: spec.idBytes,
    keyBytes: spec.keyBytes,
    shuffledBroadcast: spec.shuffledBroadcast,
    chainedKeys: spec.chainedKeys,
    newDayKey: (day, random) => ({ day, key: random.bytes(spec.keyBytes) }),
    nextDayKey: (previous, random) => ({
      day: previous.day + 1,
      key: spec.chainStep(previous.key, random),
    }),
    idAt(key, atMs) {
      const slot = Math.floor((atMs - key.day * MS_PER_DAY) / spec.slotMs);
      if (slot < 0 || slot >= spec.slotsPerDay) return undefined;
      return rollingId(key, dayIds(key).ids, slot);
    },
    idsForDay(key) {
      const { ids } = dayIds(key);
      return Array.from({ length: spec.slotsPerDay }, (_, slot) => rollingId(key, ids, slot));
    },
    payload: (key, id, meta) => spec.payload(key, dayIds(key), id, meta),
  };
}

/** GAEN v1.2: a random TEK per UTC day, 144 ten-minute RPIs, AEM-encrypted metadata. */
export const gaenScheme: RollingIdScheme = slotScheme({
  protocol: "gaen",
  slotMs: GAEN_INTERVAL_MS,
  slotsPerDay: GAEN_ROLLING_PERIOD,
  idBytes: GAEN_RPI_BYTES,
  keyBytes: GAEN_KEY_BYTES,
  shuffledBroadcast: false,
  chainedKeys: false,
  deriveDay(key) {
    const { rpik, aemk } = deriveRpikAndAemk(key.key);
    return { ids: deriveRpis(rpik, key.day * GAEN_ROLLING_PERIOD), aemk };
  },
  chainStep: (_previous, random) => random.bytes(GAEN_KEY_BYTES),
  payload: (_key, day, id, meta) =>
    encodeGaenAdvertisement(id.id, cryptAem(day.aemk!, id.id, encodeMetadata(meta.txPowerDbm))),
});

/** DP-3T low-cost design: SHA-256 day-key chain, 96 fifteen-minute EphIDs, shuffled broadcast. */
export const dp3tScheme: RollingIdScheme = slotScheme({
  protocol: "dp3t",
  slotMs: DP3T_EPOCH_MS,
  slotsPerDay: DP3T_EPOCHS_PER_DAY,
  idBytes: DP3T_EPHID_BYTES,
  keyBytes: DP3T_KEY_BYTES,
  shuffledBroadcast: true,
  chainedKeys: true,
  deriveDay: (key) => ({ ids: deriveEphIds(key.key) }),
  chainStep: (previous) => nextDp3tDayKey(previous),
  payload: (_key, _day, id) => encodeDp3tAdvertisement(id.id),
});

/** Bluezone v2: SHA-256 daily-key chain, 96 fifteen-minute 12-byte IDs. */
export const bluezoneScheme: RollingIdScheme = slotScheme({
  protocol: "bluezone",
  slotMs: BLUEZONE_SLOT_MS,
  slotsPerDay: BLUEZONE_SLOTS_PER_DAY,
  idBytes: BLUEZONE_ID_BYTES,
  keyBytes: BLUEZONE_KEY_BYTES,
  shuffledBroadcast: false,
  chainedKeys: true,
  deriveDay: (key) => ({ ids: deriveBluezoneIds(key.key) }),
  chainStep: (previous) => nextBluezoneDailyKey(previous),
  payload: (_key, _day, id) => encodeBluezoneAdvertisement(id.id),
});

const SCHEMES: Record<Protocol, RollingIdScheme> = {
  gaen: gaenScheme,
  dp3t: dp3tScheme,
  bluezone: bluezoneScheme,
};

/** The scheme of `protocol`; an unknown name fails with the valid ones. */
export function schemeFor(protocol: string): RollingIdScheme {
  const scheme = SCHEMES[protocol as Protocol];
  if (!scheme)
    throw new ConfigError(
      `unknown protocol "${protocol}": use one of ${PROTOCOLS.join(", ")}`,
      "E_PROTOCOL",
    );
  return scheme;
}
