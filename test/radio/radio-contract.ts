/**
 * The contract every radio back-end must pass (MQTT.js style: one abstract suite, run against
 * each implementation). A back-end provides a harness: two radios that hear each other, and a
 * way to let time pass.
 */
import { describe, expect, it } from "vitest";
import { bytesEqual, toHex } from "../../src/core/hex.js";
import { SeededRandom } from "../../src/core/random.js";
import { KeyStore } from "../../src/protocols/key-store.js";
import type { Protocol } from "../../src/protocols/rolling-id-scheme.js";
import { RotatingAdvertiser } from "../../src/protocols/rotating-advertiser.js";
import { schemeFor } from "../../src/protocols/schemes.js";
import type { Radio, RadioSighting, RadioState } from "../../src/radio/radio.js";

export interface RadioHarness {
  /** Two fresh radios in range of each other, and the clock they share. */
  pair(): Promise<{ a: Radio; b: Radio; nowMs: () => number }>;
  /** Lets `ms` of (virtual or real) time pass. */
  advance(ms: number): Promise<void>;
}

/** A rotating advertiser with its own key store and seeded random draws, current at `atMs`. */
export function seededAdvertiser(protocol: Protocol, atMs: number, seed = 1): RotatingAdvertiser {
  const random = new SeededRandom(seed);
  const store = new KeyStore(protocol);
  const advertiser = new RotatingAdvertiser({
    scheme: schemeFor(protocol),
    keyForDay: (_day, t) => store.ensureCurrent(t, random),
    random,
    txPowerDbm: -20,
  });
  advertiser.at(atMs);
  return advertiser;
}

export function radioContract(backend: string, harness: RadioHarness): void {
  describe(`Radio contract: ${backend}`, () => {
    it.each(["gaen", "dp3t", "bluezone"] as const)(
      "a scanner decodes what an advertiser sends (%s)",
      async (protocol) => {
        const { a, b, nowMs } = await harness.pair();
        const sightings: RadioSighting[] = [];
        b.scanner.on("sighting", (s) => sightings.push(s));
        await b.scanner.start();
        const src = seededAdvertiser(protocol, nowMs());
        await a.advertiser.start({ source: src, intervalMs: 250 });
        await harness.advance(5_000);
        expect(sightings.length).toBeGreaterThan(3);
        for (const s of sightings) {
          const sent = src.at(s.atMs);
          expect(s.protocol).toBe(protocol);
          expect(toHex(s.id)).toBe(toHex(sent.id.id));
          expect(toHex(s.address)).toBe(toHex(sent.address));
          expect(Number.isInteger(s.rssiDbm)).toBe(true);
          expect(s.rssiDbm).toBeLessThan(0);
        }
        await a.stop();
        await b.stop();
      },
    );

    it("address and ID change together as seen on the air", async () => {
      const { a, b, nowMs } = await harness.pair();
      const seen = new Map<string, string>();
      b.scanner.on("sighting", (s) => {
        const key = toHex(s.address);
        const id = toHex(s.id);
        expect(seen.get(key) ?? id).toBe(id);
        seen.set(key, id);
      });
      await b.scanner.start();
      await a.advertiser.start({ source: seededAdvertiser("gaen", nowMs(), 2) });
      await harness.advance(3_600_000);
      expect(seen.size).toBeGreaterThanOrEqual(3);
      expect(new Set(seen.values()).size).toBe(seen.size);
      await a.stop();
      await b.stop();
    });

    it("reports only the protocols asked for", async () => {
      const { a, b, nowMs } = await harness.pair();
      const protocols = new Set<string>();
      b.scanner.on("sighting", (s) => protocols.add(s.protocol));
      await b.scanner.start({ protocols: ["bluezone"] });
      await a.advertiser.start({ source: seededAdvertiser("gaen", nowMs()) });
      await harness.advance(3_000);
      expect(protocols.size).toBe(0);
      await a.stop();
      await b.stop();
    });

    it("scans only inside the duty cycle's windows", async () => {
      const { a, b, nowMs } = await harness.pair();
      const startMs = nowMs();
      const offsets: number[] = [];
      b.scanner.on("sighting", (s) => offsets.push((s.atMs - startMs) % 10_000));
      await b.scanner.start({ windowMs: 2_000, intervalMs: 10_000 });
      await a.advertiser.start({ source: seededAdvertiser("dp3t", nowMs()) });
      await harness.advance(60_000);
      expect(offsets.length).toBeGreaterThan(5);
      for (const o of offsets) expect(o).toBeLessThan(2_000 + 1);
      await a.stop();
      await b.stop();
    });

    it("stops: no sighting after stop(), stop() twice is fine, states are reported", async () => {
      const { a, b, nowMs } = await harness.pair();
      const states: RadioState[] = [];
      b.scanner.on("state", (s) => states.push(s));
      let count = 0;
      b.scanner.on("sighting", () => count++);
      await b.scanner.start();
      await a.advertiser.start({ source: seededAdvertiser("bluezone", nowMs()) });
      await harness.advance(2_000);
      await b.scanner.stop();
      const before = count;
      await harness.advance(2_000);
      expect(count).toBe(before);
      await b.stop();
      await b.stop();
      await a.stop();
      expect(states).toContain("running");
      expect(states.at(-1)).toBe("stopped");
      expect(b.scanner.state).toBe("stopped");
    });

    it("refuses to start twice", async () => {
      const { a, b, nowMs } = await harness.pair();
      await a.advertiser.start({ source: seededAdvertiser("gaen", nowMs()) });
      await expect(
        a.advertiser.start({ source: seededAdvertiser("gaen", nowMs()) }),
      ).rejects.toThrow(/already running/);
      await b.scanner.start();
      await expect(b.scanner.start()).rejects.toThrow(/already running/);
      await a.stop();
      await b.stop();
    });

    it("never puts the same bytes on the air under two addresses", async () => {
      const { a, b, nowMs } = await harness.pair();
      const byPayload = new Map<string, Uint8Array>();
      b.scanner.on("sighting", (s) => {
        const key = toHex(s.payload);
        const address = byPayload.get(key);
        if (address) expect(bytesEqual(address, s.address)).toBe(true);
        byPayload.set(key, s.address);
      });
      await b.scanner.start();
      await a.advertiser.start({ source: seededAdvertiser("bluezone", nowMs(), 9) });
      await harness.advance(2 * 3_600_000);
      expect(byPayload.size).toBeGreaterThanOrEqual(8);
      await a.stop();
      await b.stop();
    });
  });
}
