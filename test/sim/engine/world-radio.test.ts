import { describe, expect, it } from "vitest";
import { WorldRadio } from "../../../sim/engine/world-radio.js";
import { builtInScenario } from "../../../sim/world/scenario.js";
import { classifyAdvertisement, rollingIdOf } from "../../../src/ble/classify-advertisement.js";
import { isNonResolvablePrivateAddress } from "../../../src/ble/random-address.js";
import { bytesEqual } from "../../../src/core/hex.js";
import type { RadioSighting } from "../../../src/radio/radio.js";

const START = Date.UTC(2026, 10, 28, 8);

describe("WorldRadio", () => {
  it("reports what the scenario's fixed scanner hears, as a controller would, on a virtual clock", async () => {
    const radio = new WorldRadio({
      scenario: builtInScenario("checkpoint-queue"),
      seed: 4,
      startMs: START,
    });
    const heard: RadioSighting[] = [];
    radio.scanner.on("sighting", (s) => heard.push(s));
    let ticks = 0;
    const cancel = radio.every(1000, () => ticks++);
    await radio.scanner.start({ protocols: ["gaen"] });
    await radio.run(START + 10 * 60_000);
    expect(radio.nowMs()).toBe(START + 10 * 60_000);
    expect(ticks).toBe(600);
    cancel();
    expect(heard.length).toBeGreaterThan(1000);
    for (const s of heard.slice(0, 200)) {
      expect(s.protocol).toBe("gaen");
      expect(s.atMs).toBeGreaterThanOrEqual(START);
      const c = classifyAdvertisement(s.payload);
      expect(bytesEqual(rollingIdOf(c)!, s.id)).toBe(true);
      expect(isNonResolvablePrivateAddress(s.address)).toBe(true);
    }
    // Several visitors, several IDs.
    expect(new Set(heard.map((s) => Buffer.from(s.id).toString("hex"))).size).toBeGreaterThan(3);
    await radio.stop();
    const before = heard.length;
    await radio.run(START + 20 * 60_000);
    expect(heard.length).toBe(before);
  });

  it("refuses a scenario without a scanner agent", () => {
    expect(() => new WorldRadio({ scenario: builtInScenario("tram"), startMs: START })).toThrow(
      /no "scanner" agent/,
    );
  });

  it("honours a scan duty cycle", async () => {
    const radio = new WorldRadio({
      scenario: builtInScenario("checkpoint-queue"),
      seed: 4,
      startMs: START,
    });
    const heard: number[] = [];
    radio.scanner.on("sighting", (s) => heard.push(s.atMs));
    await radio.scanner.start({ windowMs: 2000, intervalMs: 10_000 });
    await radio.run(START + 5 * 60_000);
    expect(heard.length).toBeGreaterThan(0);
    for (const atMs of heard) expect((atMs - START) % 10_000).toBeLessThan(2000);
  });
});
