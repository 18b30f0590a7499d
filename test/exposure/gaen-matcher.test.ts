import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../src/core/random.js";
import {
  GaenMatcher,
  newMatchCounts,
  type PublishedKey,
  toGaenColumns,
} from "../../src/exposure/gaen-matcher.js";
import {
  cryptAem,
  deriveRpikAndAemk,
  deriveRpis,
  encodeMetadata,
} from "../../src/protocols/gaen.js";

const START = 2642976; // 2020-04-02, the official vector's day

function heard(
  key: PublishedKey,
  j: number,
  options: { offsetIntervals?: number; txPowerDbm?: number; rssiDbm?: number } = {},
) {
  const { rpik, aemk } = deriveRpikAndAemk(key.keyData);
  const rpi = deriveRpis(rpik, key.rollingStartIntervalNumber + j, 1);
  const aem = cryptAem(aemk, rpi, encodeMetadata(options.txPowerDbm ?? -10));
  const atMs =
    (key.rollingStartIntervalNumber + j + (options.offsetIntervals ?? 0)) * 600_000 + 30_000;
  return { atMs, rssiDbm: options.rssiDbm ?? -70, id: rpi, aem };
}

describe("GaenMatcher", () => {
  const random = new SeededRandom(42);
  const keys: PublishedKey[] = Array.from({ length: 50 }, (_, i) => ({
    keyData: random.bytes(16),
    rollingStartIntervalNumber: START + 144 * (i % 3),
    rollingPeriod: 144,
  }));

  it("accepts sightings of published keys inside the ±2 h tolerance, with the decrypted TX power", () => {
    const sightings = [
      heard(keys[3], 10),
      heard(keys[3], 11, { offsetIntervals: 12 }), // 2 h late: still accepted
      heard(keys[7], 143, { offsetIntervals: -12, txPowerDbm: 5 }),
      ...Array.from({ length: 1000 }, () => ({
        atMs: START * 600_000,
        rssiDbm: -80,
        id: random.bytes(16),
        aem: random.bytes(4),
      })),
    ];
    const counts = newMatchCounts();
    const matches = new GaenMatcher(toGaenColumns(sightings)).match(keys, { counts, batchKeys: 7 });
    expect(matches.map((m) => [m.keyIndex, m.sighting, m.txPowerDbm]).sort()).toEqual(
      [
        [3, 0, -10],
        [3, 1, -10],
        [7, 2, 5],
      ].sort(),
    );
    expect(counts).toMatchObject({ keys: 50, rpis: 50 * 144, candidates: 3, accepted: 3 });
  });

  it("rejects replays outside the tolerance and implausible TX power", () => {
    const sightings = [
      heard(keys[1], 5, { offsetIntervals: 13 }),
      heard(keys[1], 6, { offsetIntervals: -13 }),
      heard(keys[2], 7, { txPowerDbm: 21 }),
      heard(keys[2], 8, { txPowerDbm: -51 }),
      heard(keys[2], 9, { txPowerDbm: 20 }),
    ];
    const counts = newMatchCounts();
    const matches = new GaenMatcher(toGaenColumns(sightings)).match(keys, { counts });
    expect(matches.map((m) => m.sighting)).toEqual([4]);
    expect(counts).toMatchObject({
      candidates: 5,
      rejectedOutsideTolerance: 2,
      rejectedTxPower: 2,
      accepted: 1,
    });
  });

  it("finds every sighting of an RPI heard many times, and keys with short rolling periods", () => {
    const short: PublishedKey = { ...keys[4], rollingPeriod: 20 };
    const sightings = [heard(short, 19), heard(short, 19), heard(short, 19), heard(keys[4], 20)];
    const matches = new GaenMatcher(toGaenColumns(sightings)).match([short]);
    expect(matches.map((m) => m.sighting).sort()).toEqual([0, 1, 2]);
  });
});
