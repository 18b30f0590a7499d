import { describe, expect, it } from "vitest";
import { Phones } from "../../../sim/engine/phones.js";
import { PROTOCOL_NAMES } from "../../../sim/world/scenario.js";
import { classifyAdvertisement, rollingIdOf } from "../../../src/ble/classify-advertisement.js";
import { SeededRandom } from "../../../src/core/random.js";
import { KeyStore } from "../../../src/protocols/key-store.js";
import { RotatingAdvertiser } from "../../../src/protocols/rotating-advertiser.js";
import { schemeFor } from "../../../src/protocols/schemes.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The objects the compact columns replace: a key store and an advertiser per phone. */
function reference(protocolIndex: number, seed: number) {
  const protocol = PROTOCOL_NAMES[protocolIndex];
  const random = new SeededRandom(seed);
  const store = new KeyStore(protocol);
  const advertiser = new RotatingAdvertiser({
    scheme: schemeFor(protocol),
    keyForDay: (_day, atMs) => store.ensureCurrent(atMs, random),
    random,
    txPowerDbm: -24,
  });
  return { store, advertiser };
}

/** Times that mostly move forward, by seconds to days, with jumps back (across midnight too). */
function times(seed: number, count: number): number[] {
  const random = new SeededRandom(seed);
  let t = Date.UTC(2021, 0, 4, 23, 40);
  const out: number[] = [];
  for (let k = 0; k < count; k++) {
    const r = random.float();
    if (r < 0.4) t += random.int(1_000);
    else if (r < 0.7) t += random.int(30 * 60_000);
    else if (r < 0.85) t += random.int(6 * HOUR);
    else if (r < 0.9)
      t += DAY + random.int(3 * DAY); // a gap of days (keys retained, pruned)
    else t -= random.int(20 * 60_000); // back a little
    out.push(t);
  }
  return out;
}

describe("phones: compact advertisers and key stores", () => {
  it("a resumed stream continues exactly where the saved one was", () => {
    const a = new SeededRandom(42);
    a.bytes(7);
    const words = new Int32Array(8);
    a.saveState(words, 4);
    const b = SeededRandom.fromState(words, 4);
    expect([b.float(), b.int(1000), ...b.bytes(9)]).toEqual([
      a.float(),
      a.int(1000),
      ...a.bytes(9),
    ]);
  });

  it.each([
    ["gaen", [0, 0, 0]],
    ["dp3t", [1, 1, 1]],
    ["bluezone", [2, 2, 2]],
    ["a mix", [0, 1, 2, 1, 0, 2]],
  ])(
    "rotate bit-exactly with a RotatingAdvertiser and a KeyStore on the same stream (%s)",
    (_name, mix) => {
      const protocolIndex = Uint8Array.from(mix);
      const phones = new Phones(protocolIndex, mix.length, -24);
      const refs = mix.map((p, i) => {
        phones.setStream(i, new SeededRandom(100 + i));
        return reference(p, 100 + i);
      });
      let rotations = 0;
      for (let i = 0; i < mix.length; i++) {
        let lastSince = Number.NaN;
        for (const t of times(7 + i, 400)) {
          const want = refs[i].advertiser.at(t);
          const got = phones.broadcastAt(i, t);
          if (want.sinceMs !== lastSince) rotations++;
          lastSince = want.sinceMs;
          expect([got.sinceMs, got.untilMs]).toEqual([want.sinceMs, want.untilMs]);
          expect(got.address).toEqual(want.address);
          const classified = classifyAdvertisement(want.payload);
          expect(got.decoded?.protocol).toBe(classified.protocol);
          expect(got.decoded?.id).toEqual(rollingIdOf(classified));
          expect(got.decoded?.aem).toEqual(
            classified.protocol === "gaen" ? classified.aem : undefined,
          );
          expect(phones.keyStore(i).toJson()).toEqual(refs[i].store.toJson());
        }
      }
      expect(rotations).toBeGreaterThan(100 * mix.length);
      expect(phones.keyStores().map((s) => s.toJson())).toEqual(refs.map((r) => r.store.toJson()));
    },
  );

  it("shares one decoded broadcast among its sightings, and a new one after a rotation", () => {
    const phones = new Phones(Uint8Array.of(0, 0), 2, -24);
    phones.setStream(0, new SeededRandom(1));
    phones.setStream(1, new SeededRandom(2));
    const t = Date.UTC(2021, 0, 4, 9);
    const first = phones.decodedAt(0, t);
    expect(first?.protocol).toBe("gaen");
    const firstId = first?.id.slice();
    expect(phones.decodedAt(0, t + 1000)).toBe(first);
    expect(phones.decodedAt(1, t)).not.toBe(first);
    const { untilMs } = phones.broadcastAt(0, t);
    const next = phones.decodedAt(0, untilMs);
    expect(next).not.toBe(first);
    expect(next?.id).not.toEqual(firstId);
    // Sightings already delivered keep their bytes: a rotation does not rewrite them.
    expect(first?.id).toEqual(firstId);
  });

  it("holds under 100 bytes a phone (130 with DP-3T's), and no keys for a phone that never advertised", () => {
    const n = 10_000;
    const phones = new Phones(new Uint8Array(n), n, -24);
    expect(phones.bytes / n).toBeLessThan(100);
    expect(phones.keyStore(5).all()).toEqual([]);
    const mixed = new Phones(
      Uint8Array.from({ length: n }, (_, i) => i % 3),
      n,
      -24,
    );
    expect(mixed.bytes / n).toBeLessThan(130);
  });
});
