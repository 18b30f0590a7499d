import { describe, expect, it } from "vitest";
import { isNonResolvablePrivateAddress } from "../../src/ble/random-address.js";
import { bytesEqual, toHex } from "../../src/core/hex.js";
import { SeededRandom } from "../../src/core/random.js";
import { KeyStore } from "../../src/protocols/key-store.js";
import { MS_PER_DAY, PROTOCOLS, type Protocol } from "../../src/protocols/rolling-id-scheme.js";
import { type Broadcast, RotatingAdvertiser } from "../../src/protocols/rotating-advertiser.js";
import { schemeFor } from "../../src/protocols/schemes.js";

const DAY0 = Date.UTC(2020, 3, 2);
/** Bytes of each protocol's advertisement that are the same in every advertisement. */
const CONSTANT_BYTES: Record<Protocol, number> = { gaen: 11, dp3t: 11, bluezone: 11 };

function makeAdvertiser(protocol: Protocol, seed = 7) {
  const random = new SeededRandom(seed);
  const store = new KeyStore(protocol);
  const advertiser = new RotatingAdvertiser({
    scheme: schemeFor(protocol),
    keyForDay: (_day, atMs) => store.ensureCurrent(atMs, random),
    random,
    txPowerDbm: -20,
  });
  return { advertiser, store };
}

function rotations(advertiser: RotatingAdvertiser, count: number): Broadcast[] {
  const out = [advertiser.at(DAY0)];
  while (out.length < count) out.push(advertiser.at(out.at(-1)!.untilMs));
  return out;
}

describe.each(PROTOCOLS)("RotatingAdvertiser (%s)", (protocol) => {
  it("across 1,000 rotations only the protocol's constant bytes survive a rotation", () => {
    const { advertiser } = makeAdvertiser(protocol);
    const all = rotations(advertiser, 1001);
    const length = all[0].payload.length;
    const unchanged = new Array<number>(length).fill(0);
    let sameAddressBytes = 0;
    for (let i = 1; i < all.length; i++) {
      const [a, b] = [all[i - 1], all[i]];
      expect(b.rotation).toBe(a.rotation + 1);
      expect(b.sinceMs).toBe(a.untilMs);
      expect(bytesEqual(a.address, b.address)).toBe(false);
      expect(bytesEqual(a.id.id, b.id.id)).toBe(false);
      expect(a.intervalJitterSeed).not.toBe(b.intervalJitterSeed);
      expect(isNonResolvablePrivateAddress(b.address)).toBe(true);
      for (let j = 0; j < length; j++) if (a.payload[j] === b.payload[j]) unchanged[j]++;
      for (let j = 0; j < 6; j++) if (a.address[j] === b.address[j]) sameAddressBytes++;
    }
    const constant = CONSTANT_BYTES[protocol];
    // Constant bytes (flags, UUIDs, company id, structure headers) never change...
    for (let j = 0; j < constant; j++) expect(unchanged[j]).toBe(1000);
    // ...and every other byte is equal across a rotation only by chance (~1/256).
    for (let j = constant; j < length; j++) expect(unchanged[j]).toBeLessThan(20);
    // The address's top two bits are fixed (00, non-resolvable); the rest is random.
    expect(sameAddressBytes).toBeLessThan(1000 + 30);
  });

  it("address, ID and payload change at the same instants and never one without the others", () => {
    const { advertiser } = makeAdvertiser(protocol, 11);
    let previous = advertiser.at(DAY0);
    let changes = 0;
    for (let t = DAY0; t < DAY0 + 2 * MS_PER_DAY; t += 5_000) {
      const b = advertiser.at(t);
      const addressChanged = !bytesEqual(b.address, previous.address);
      const idChanged = !bytesEqual(b.id.id, previous.id.id);
      const payloadChanged = !bytesEqual(b.payload, previous.payload);
      expect(idChanged).toBe(addressChanged);
      expect(payloadChanged).toBe(addressChanged);
      if (addressChanged) changes++;
      previous = b;
    }
    expect(changes).toBeGreaterThan(2 * 60);
  });

  it("broadcasts IDs that a receiver regenerates from the published key", () => {
    const { advertiser, store } = makeAdvertiser(protocol, 3);
    const scheme = schemeFor(protocol);
    for (const b of rotations(advertiser, 200)) {
      const key = store.keyForDay(Math.floor(b.sinceMs / MS_PER_DAY))!;
      const matching = new Set(scheme.idsForDay(key).map((r) => toHex(r.id)));
      expect(matching.has(toHex(b.id.id))).toBe(true);
      if (protocol === "gaen") {
        // The RPI is the one of the rotation instant's interval; the period is 10-20 minutes.
        expect(toHex(b.id.id)).toBe(toHex(scheme.idAt(key, b.sinceMs)!.id));
        expect(b.untilMs - b.sinceMs).toBeGreaterThanOrEqual(600_000);
        expect(b.untilMs - b.sinceMs).toBeLessThan(1_200_000);
      } else {
        // Slot-aligned: each ID is on the air only inside its own slot.
        expect(b.sinceMs).toBeGreaterThanOrEqual(b.id.startMs);
        expect(b.untilMs).toBeLessThanOrEqual(b.id.startMs + scheme.slotMs);
      }
    }
  });

  it("is deterministic from the seed", () => {
    const a = rotations(makeAdvertiser(protocol, 5).advertiser, 50).map(
      (b) => toHex(b.payload) + toHex(b.address),
    );
    const b = rotations(makeAdvertiser(protocol, 5).advertiser, 50).map(
      (b) => toHex(b.payload) + toHex(b.address),
    );
    expect(a).toEqual(b);
  });

  it("rotates at once instead of replaying an old ID when the clock jumps back", () => {
    const { advertiser } = makeAdvertiser(protocol);
    const late = advertiser.at(DAY0 + 3_600_000);
    const back = advertiser.at(DAY0);
    expect(back.rotation).toBe(late.rotation + 1);
    expect(bytesEqual(back.address, late.address)).toBe(false);
  });
});

describe("DP-3T broadcast order", () => {
  it("is a shuffle of the day's EphIDs, each broadcast once", () => {
    const { advertiser, store } = makeAdvertiser("dp3t", 9);
    const day = rotations(advertiser, 96);
    const key = store.keyForDay(Math.floor(DAY0 / MS_PER_DAY))!;
    const counterOrder = schemeFor("dp3t")
      .idsForDay(key)
      .map((r) => toHex(r.id));
    const broadcast = day.map((b) => toHex(b.id.id));
    expect([...broadcast].sort()).toEqual([...counterOrder].sort());
    expect(broadcast).not.toEqual(counterOrder);
  });
});
