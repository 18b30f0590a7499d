/**
 * The contract every radio a back-end opens must pass (MQTT.js style: one abstract suite, run
 * against each implementation), in three parts (`RadioContractPart`): `air` (a scanner decodes
 * exactly what an advertiser sends), `scanner` (what a scanner reports of what is on the air)
 * and `advertiser` (an advertiser alone). A radio provides a harness: radio `a` advertising and
 * radio `b` scanning, and a way to let time pass. test/radio/radio-backends.test.ts runs the
 * suite on every radio of the registry, but for the parts the registry says it does not run.
 */
import { afterEach, describe, expect, it } from "vitest";
import { bytesEqual, toHex } from "../../src/core/hex.js";
import { SeededRandom } from "../../src/core/random.js";
import { KeyStore } from "../../src/protocols/key-store.js";
import type { Protocol } from "../../src/protocols/rolling-id-scheme.js";
import { RotatingAdvertiser } from "../../src/protocols/rotating-advertiser.js";
import { schemeFor } from "../../src/protocols/schemes.js";
import type { Radio, RadioSighting, RadioState } from "../../src/radio/radio.js";
import type { RadioContractPart } from "../../src/radio/radio-backends.js";

export interface RadioHarness {
  /**
   * Fresh radios and the clock they share: `a` to advertise and `b` to scan, `b` in range of
   * `a`, hearing what `a` sends and nothing else. Without the `air` part, `b` may instead hear
   * traffic of its own (a crowd), of more than one protocol, and `a` may be `b`.
   */
  pair(): Promise<{ a: Radio; b: Radio; nowMs: () => number }>;
  /** Lets `ms` of (virtual or real) time pass. */
  advance(ms: number): Promise<void>;
  /** Releases what a test left open (after each test). */
  cleanup?(): Promise<void> | void;
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

/**
 * Runs the suite on `harness` as `name`, but for the `untested` parts (the registry's word for
 * the radio), which show as skipped with their reason.
 */
export function radioContract(
  name: string,
  harness: RadioHarness,
  untested: Readonly<Partial<Record<RadioContractPart, string>>> = {},
): void {
  const part = (which: RadioContractPart, tests: () => void) => {
    const why = untested[which];
    if (why === undefined) describe(which, tests);
    else describe.skip(`${which} (not run: ${why})`, tests);
  };

  /** Runs `test` on a fresh pair of radios, then stops both. */
  const onPair = async (
    test: (pair: Awaited<ReturnType<RadioHarness["pair"]>>) => Promise<void>,
  ): Promise<void> => {
    const pair = await harness.pair();
    await test(pair);
    await pair.a.stop();
    await pair.b.stop();
  };

  describe(`Radio contract: ${name}`, () => {
    afterEach(async () => {
      await harness.cleanup?.();
    });

    part("air", () => {
      it.each(["gaen", "dp3t", "bluezone"] as const)(
        "a scanner decodes what an advertiser sends (%s)",
        (protocol) =>
          onPair(async ({ a, b, nowMs }) => {
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
          }),
      );
    });

    part("scanner", () => {
      it("address and ID change together as seen on the air", () =>
        onPair(async ({ a, b, nowMs }) => {
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
        }));

      it("reports only the protocols asked for", () =>
        onPair(async ({ a, b, nowMs }) => {
          const protocols = new Set<string>();
          b.scanner.on("sighting", (s) => protocols.add(s.protocol));
          await b.scanner.start({ protocols: ["bluezone"] });
          await a.advertiser.start({ source: seededAdvertiser("gaen", nowMs()) });
          await harness.advance(3_000);
          expect([...protocols].filter((p) => p !== "bluezone")).toEqual([]);
        }));

      it("scans only inside the duty cycle's windows", () =>
        onPair(async ({ a, b, nowMs }) => {
          const startMs = nowMs();
          const offsets: number[] = [];
          b.scanner.on("sighting", (s) => offsets.push((s.atMs - startMs) % 10_000));
          await b.scanner.start({ windowMs: 2_000, intervalMs: 10_000 });
          await a.advertiser.start({ source: seededAdvertiser("dp3t", nowMs()) });
          await harness.advance(60_000);
          expect(offsets.length).toBeGreaterThan(5);
          for (const o of offsets) expect(o).toBeLessThan(2_000 + 1);
        }));

      it("stops: no sighting after stop(), stop() twice is fine, states are reported", () =>
        onPair(async ({ a, b, nowMs }) => {
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
        }));

      it("refuses to start twice", () =>
        onPair(async ({ b }) => {
          await b.scanner.start();
          await expect(b.scanner.start()).rejects.toThrow(/already running/);
        }));

      it("never puts the same bytes on the air under two addresses", () =>
        onPair(async ({ a, b, nowMs }) => {
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
        }));
    });

    part("advertiser", () => {
      it("reports its states, and each rotation of its source as it goes on the air", () =>
        onPair(async ({ a, nowMs }) => {
          const src = seededAdvertiser("gaen", nowMs(), 3);
          const states: RadioState[] = [];
          const rotations: number[] = [];
          a.advertiser.on("state", (s) => states.push(s));
          a.advertiser.on("rotated", ({ atMs, rotation }) => {
            expect(atMs).toBe(nowMs());
            expect(rotation).toBe(src.at(atMs).rotation);
            rotations.push(rotation);
          });
          await a.advertiser.start({ source: src });
          await harness.advance(3_600_000);
          await a.advertiser.stop();
          await a.advertiser.stop();
          // GAEN rotates every 10-20 min: each rotation once, none left out.
          expect(rotations.length).toBeGreaterThanOrEqual(3);
          expect(rotations).toEqual(rotations.map((_, i) => rotations[0] + i));
          expect(states).toContain("running");
          expect(states.at(-1)).toBe("stopped");
          expect(a.advertiser.state).toBe("stopped");
        }));

      it("refuses to start twice", () =>
        onPair(async ({ a, nowMs }) => {
          await a.advertiser.start({ source: seededAdvertiser("gaen", nowMs()) });
          await expect(
            a.advertiser.start({ source: seededAdvertiser("gaen", nowMs()) }),
          ).rejects.toThrow(/already running/);
        }));
    });
  });
}
