import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../src/core/random.js";
import { matchDayKeys } from "../../src/exposure/chained-key-matcher.js";
import { KeyStore } from "../../src/protocols/key-store.js";
import { MS_PER_DAY } from "../../src/protocols/rolling-id-scheme.js";
import { RotatingAdvertiser } from "../../src/protocols/rotating-advertiser.js";
import { schemeFor } from "../../src/protocols/schemes.js";
import type { Sighting } from "../../src/signal/sighting.js";

const DAY0 = Date.UTC(2021, 6, 1);

/** What a receiver hears of one device over `days` days, one sighting every 5 minutes. */
function hear(protocol: "bluezone" | "dp3t", days: number) {
  const random = new SeededRandom(protocol === "dp3t" ? 1 : 2);
  const store = new KeyStore(protocol);
  const advertiser = new RotatingAdvertiser({
    scheme: schemeFor(protocol),
    keyForDay: (_d, atMs) => store.ensureCurrent(atMs, random),
    random,
    txPowerDbm: -20,
  });
  const sightings: Sighting[] = [];
  for (let t = DAY0; t < DAY0 + days * MS_PER_DAY; t += 300_000) {
    sightings.push({ atMs: t, protocol, id: advertiser.at(t).id.id, rssiDbm: -70 });
  }
  return { store, sightings };
}

describe("matchDayKeys", () => {
  it.each(["bluezone", "dp3t"] as const)(
    "%s: the first published key finds every sighting of the following days",
    (protocol) => {
      const { store, sightings } = hear(protocol, 3);
      const first = store.all()[0];
      const matches = matchDayKeys([{ protocol, key: first, days: 3 }], sightings);
      expect(matches.length).toBe(sightings.length);
      expect(new Set(matches.map((m) => m.sighting)).size).toBe(sightings.length);
    },
  );

  it("bluezone: an ID heard outside its slot's span is not a match (replay)", () => {
    const { store, sightings } = hear("bluezone", 1);
    const replayed = sightings.map((s) => ({ ...s, atMs: s.atMs + 3_600_000 }));
    expect(matchDayKeys([{ protocol: "bluezone", key: store.all()[0] }], replayed)).toEqual([]);
    // With a tolerance of an hour they match again.
    expect(
      matchDayKeys([{ protocol: "bluezone", key: store.all()[0] }], replayed, {
        toleranceMs: 3_600_000,
      }).length,
    ).toBeGreaterThan(0);
  });

  it("bluezone: time_start/time_end restrict the span", () => {
    const { store, sightings } = hear("bluezone", 1);
    const matches = matchDayKeys(
      [
        {
          protocol: "bluezone",
          key: store.all()[0],
          startMs: DAY0 + 6 * 3_600_000,
          endMs: DAY0 + 12 * 3_600_000,
        },
      ],
      sightings,
    );
    expect(matches.length).toBe(72);
  });

  it("does not match other devices' keys", () => {
    const { sightings } = hear("dp3t", 1);
    const stranger = new KeyStore("dp3t").ensureCurrent(DAY0, new SeededRandom(99));
    expect(matchDayKeys([{ protocol: "dp3t", key: stranger }], sightings)).toEqual([]);
  });
});
