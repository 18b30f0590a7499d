/**
 * Precomputed rotation schedules for beacons that cannot run the cryptography (an nRF52 or
 * ESP32 venue beacon): for each rotation, when it starts, the random address and the 31 bytes
 * of advertising data (which carry the rolling ID). ID and address change together, as the
 * `RotatingAdvertiser` does it, because the schedule is made by running one.
 *
 * A schedule is key material: whoever holds it can recognise every ID the beacon will send
 * (and link them all to one beacon); for GAEN it reveals future RPIs, which the protocol keeps
 * secret until the keys are published.
 */
import { createHmac } from "node:crypto";
import { formatAddress } from "../ble/random-address.js";
import { KeyFileError } from "../core/errors.js";
import { toHex } from "../core/hex.js";
import { type Random, SeededRandom } from "../core/random.js";
import { shuffledEpochOrder } from "../protocols/dp3t.js";
import { GAEN_DEFAULT_TX_POWER_DBM } from "../protocols/gaen.js";
import { KeyStore, MAX_KEY_DAY, MAX_KEY_STORE_REACH_DAYS } from "../protocols/key-store.js";
import {
  type DayKey,
  dayOf,
  MS_PER_DAY,
  type Protocol,
  utcDate,
} from "../protocols/rolling-id-scheme.js";
import { type Broadcast, RotatingAdvertiser } from "../protocols/rotating-advertiser.js";
import { schemeFor } from "../protocols/schemes.js";

/** Advertising interval range per protocol, ms. */
export interface IntervalRange {
  readonly minIntervalMs: number;
  readonly maxIntervalMs: number;
}

/**
 * GAEN: 200-270 ms (GAEN Bluetooth specification v1.2). DP-3T and Bluezone fix none; proxkit
 * uses 250 ms, as its simulated radio does.
 */
export const ADVERTISING_INTERVALS: Record<Protocol, IntervalRange> = {
  gaen: { minIntervalMs: 200, maxIntervalMs: 270 },
  dp3t: { minIntervalMs: 250, maxIntervalMs: 250 },
  bluezone: { minIntervalMs: 250, maxIntervalMs: 250 },
};

/** The line printed (on stderr) whenever a schedule is exported. */
export function keyMaterialWarning(protocol: Protocol): string {
  return (
    "warning: this schedule is key material: whoever has it can recognise and link every ID the beacon " +
    "will broadcast, i.e. track it" +
    (protocol === "gaen"
      ? ", and it reveals future GAEN RPIs that stay secret until the keys are published"
      : "") +
    ". Keep it like the key store (mode 0600), flash it, then delete it."
  );
}

/**
 * The day's broadcast order for a shuffling protocol (DP-3T), derived from the day key so that
 * tools computing one rotation at a time agree with each other and with an exported schedule,
 * while staying unpredictable to anyone without the key.
 */
export function keyedBroadcastOrder(key: DayKey, slots: number): number[] {
  const digest = createHmac("sha256", key.key).update("proxkit broadcast order").digest();
  return shuffledEpochOrder(new SeededRandom(digest.readInt32BE(0)), slots);
}

/**
 * The keys of days `fromDay..toDay`, taken from `store` or made: chained forward for DP-3T and
 * Bluezone (deterministic), fresh from `random` for GAEN (these must be kept: the device
 * publishes them if diagnosed). Returns the store with the new keys added (nothing pruned;
 * `added` is empty when the store already had them all).
 */
export function keysForDays(
  store: KeyStore,
  fromDay: number,
  toDay: number,
  random: Random,
): { store: KeyStore; keys: Map<number, DayKey>; added: DayKey[] } {
  const scheme = schemeFor(store.protocol);
  const byDay = new Map(store.all().map((k) => [k.day, k]));
  const first = store.all()[0];
  if (first && fromDay < first.day && fromDay >= -MAX_KEY_DAY) {
    throw new KeyFileError(
      `the key store's first key is for ${utcDate(first.day)}; it has no key for ${utcDate(fromDay)}`,
      "E_KEY_MISSING",
    );
  }
  // Before any chaining: a store years away from the days asked for would chain without end.
  store.checkReach(fromDay);
  store.checkReach(toDay);
  if (!(toDay - fromDay <= MAX_KEY_STORE_REACH_DAYS))
    throw new KeyFileError(
      `keys for ${toDay - fromDay + 1} days asked for; at most ${MAX_KEY_STORE_REACH_DAYS + 1} are made at once`,
      "E_KEY_STORE_DAYS",
    );
  const added: DayKey[] = [];
  const keys = new Map<number, DayKey>();
  for (let day = fromDay; day <= toDay; day++) {
    let key = byDay.get(day);
    if (!key) {
      if (scheme.chainedKeys && byDay.size > 0) {
        let previous = [...byDay.values()]
          .filter((k) => k.day < day)
          .sort((a, b) => b.day - a.day)[0];
        while (previous.day < day) {
          previous = scheme.nextDayKey(previous, random);
          byDay.set(previous.day, previous);
          added.push(previous);
        }
        key = previous;
      } else {
        key = scheme.newDayKey(day, random);
        byDay.set(day, key);
        added.push(key);
      }
    }
    keys.set(day, key);
  }
  const updated =
    added.length === 0
      ? store
      : new KeyStore(store.protocol, {
          retentionDays: store.retentionDays,
          keys: [...byDay.values()],
        });
  return { store: updated, keys, added };
}

export interface RotationSource {
  readonly advertiser: RotatingAdvertiser;
  readonly store: KeyStore;
  readonly added: DayKey[];
}

/**
 * A `RotatingAdvertiser` over `store`'s keys for `[fromMs, toMs)`: addresses and rotation
 * times from `random` (use the CSPRNG), DP-3T's order from the key.
 */
export function rotationSource(
  store: KeyStore,
  fromMs: number,
  toMs: number,
  random: Random,
  txPowerDbm = GAEN_DEFAULT_TX_POWER_DBM,
): RotationSource {
  const scheme = schemeFor(store.protocol);
  const {
    store: updated,
    keys,
    added,
  } = keysForDays(store, dayOf(fromMs), dayOf(Math.max(fromMs, toMs - 1)), random);
  const advertiser = new RotatingAdvertiser({
    scheme,
    keyForDay: (day) => {
      const key = keys.get(day);
      if (!key) throw new KeyFileError(`no key for ${utcDate(day)}`, "E_KEY_MISSING");
      return key;
    },
    random,
    txPowerDbm,
    ...(scheme.shuffledBroadcast
      ? { broadcastOrder: (key: DayKey) => keyedBroadcastOrder(key, scheme.slotsPerDay) }
      : {}),
  });
  return { advertiser, store: updated, added };
}

/** One rotation of a schedule. */
export interface ScheduleEntry {
  readonly rotation: number;
  readonly startMs: number;
  /** When the next entry starts (the schedule's end for the last one). */
  readonly endMs: number;
  readonly slot: number;
  readonly id: Uint8Array;
  /** Most significant byte first. */
  readonly address: Uint8Array;
  readonly payload: Uint8Array;
}

export interface FirmwareSchedule {
  readonly protocol: Protocol;
  readonly fromMs: number;
  readonly toMs: number;
  readonly interval: IntervalRange;
  readonly txPowerDbm: number;
  readonly entries: ScheduleEntry[];
}

export interface ScheduleOptions {
  readonly store: KeyStore;
  /** Start of the schedule; rounded down to a whole second (beacon clocks count seconds). */
  readonly fromMs: number;
  readonly days: number;
  readonly random: Random;
  readonly txPowerDbm?: number;
}

/** Runs a rotating advertiser over `days` days from `fromMs` and lists every rotation. */
export function buildSchedule(options: ScheduleOptions): {
  schedule: FirmwareSchedule;
  store: KeyStore;
  added: DayKey[];
} {
  const fromMs = Math.floor(options.fromMs / 1000) * 1000;
  const toMs = fromMs + options.days * MS_PER_DAY;
  const txPowerDbm = options.txPowerDbm ?? GAEN_DEFAULT_TX_POWER_DBM;
  const source = rotationSource(options.store, fromMs, toMs, options.random, txPowerDbm);
  const entries: ScheduleEntry[] = [];
  let atMs = fromMs;
  while (atMs < toMs) {
    const b: Broadcast = source.advertiser.at(atMs);
    // Whole seconds: a slot boundary is one already, and flooring stays inside the same slot.
    const startMs = Math.floor(b.sinceMs / 1000) * 1000;
    const endMs = Math.min(toMs, Math.floor(b.untilMs / 1000) * 1000);
    entries.push({
      rotation: b.rotation,
      startMs: Math.max(startMs, fromMs),
      endMs,
      slot: b.id.slot,
      id: b.id.id,
      address: b.address,
      payload: b.payload,
    });
    atMs = b.untilMs;
  }
  return {
    schedule: {
      protocol: options.store.protocol,
      fromMs,
      toMs,
      interval: ADVERTISING_INTERVALS[options.store.protocol],
      txPowerDbm,
      entries,
    },
    store: source.store,
    added: source.added,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The schedule as a JSON document. */
export function scheduleToJson(schedule: FirmwareSchedule) {
  return {
    format: "proxkit-firmware-schedule",
    version: 1,
    protocol: schedule.protocol,
    from: iso(schedule.fromMs),
    to: iso(schedule.toMs),
    advertisingIntervalMs: {
      min: schedule.interval.minIntervalMs,
      max: schedule.interval.maxIntervalMs,
    },
    advertisingType: "ADV_NONCONN_IND",
    ownAddressType: "random",
    txPowerDbm: schedule.txPowerDbm,
    warning: keyMaterialWarning(schedule.protocol).replace(/^warning: /, ""),
    entries: schedule.entries.map((e) => ({
      rotation: e.rotation,
      start: iso(e.startMs),
      startUnixS: e.startMs / 1000,
      end: iso(e.endMs),
      slot: e.slot,
      id: toHex(e.id),
      address: formatAddress(e.address),
      payload: toHex(e.payload),
    })),
  };
}

function cBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => `0x${b.toString(16).padStart(2, "0")}`).join(", ");
}

/** The schedule as a C header for a beacon's firmware. */
export function scheduleToC(schedule: FirmwareSchedule): string {
  const { interval } = schedule;
  const lines = [
    "/*",
    ` * proxkit firmware schedule: ${schedule.protocol}, ${iso(schedule.fromMs)} to ${iso(schedule.toMs)},`,
    ` * ${schedule.entries.length} rotations.`,
    " *",
    ` * KEY MATERIAL: ${keyMaterialWarning(schedule.protocol).replace(/^warning: this schedule is key material: /, "")}`,
    " *",
    " * At each entry's start_unix_s: stop advertising, set the random address, set the advertising",
    " * data, start again (the HCI sequence `proxkit hci commands` prints): address and ID must",
    " * change together. Non-connectable (ADV_NONCONN_IND), own address type random, channels 37-39.",
    " * After PROXKIT_SCHEDULE_END_UNIX_S stop advertising: never repeat an entry.",
    " */",
    "#ifndef PROXKIT_SCHEDULE_H",
    "#define PROXKIT_SCHEDULE_H",
    "#include <stdint.h>",
    "",
    `#define PROXKIT_ADV_INTERVAL_MIN_MS ${interval.minIntervalMs}`,
    `#define PROXKIT_ADV_INTERVAL_MAX_MS ${interval.maxIntervalMs}`,
    `#define PROXKIT_SCHEDULE_START_UNIX_S ${schedule.fromMs / 1000}u`,
    `#define PROXKIT_SCHEDULE_END_UNIX_S ${schedule.toMs / 1000}u`,
    "",
    "typedef struct {",
    "  uint32_t start_unix_s; /* first second on the air (UTC) */",
    "  uint8_t address[6];    /* random non-resolvable address, most significant byte first;",
    "                            reverse it for HCI and nRF ble_gap_addr_t (least significant first) */",
    "  uint8_t adv_data_len;",
    "  uint8_t adv_data[31];  /* legacy advertising data, carries the rolling ID */",
    "} proxkit_rotation_t;",
    "",
    "static const proxkit_rotation_t proxkit_schedule[] = {",
  ];
  for (const e of schedule.entries) {
    const data = new Uint8Array(31);
    data.set(e.payload);
    lines.push(
      `  { ${e.startMs / 1000}u, { ${cBytes(e.address)} }, ${e.payload.length},`,
      `    { ${cBytes(data)} } }, /* ${iso(e.startMs)} slot ${e.slot} */`,
    );
  }
  lines.push(
    "};",
    "#define PROXKIT_SCHEDULE_COUNT (sizeof proxkit_schedule / sizeof proxkit_schedule[0])",
    "#endif",
  );
  return `${lines.join("\n")}\n`;
}
