/** The HCI back-end over fake bindings (its contract suite runs in radio-backends.test.ts). */
import { describe, expect, it } from "vitest";
import { errorInFlags } from "../../src/cli/option-names.js";
import type { RadioError } from "../../src/core/errors.js";
import { toHex } from "../../src/core/hex.js";
import { OPCODE } from "../../src/radio/hci/hci-commands.js";
import type { HciRadio } from "../../src/radio/hci/hci-radio.js";
import { openRadio } from "../../src/radio/open-radio.js";
import type { RadioSighting, RadioState } from "../../src/radio/radio.js";
import { SimMedium } from "../../src/radio/sim/sim-medium.js";
import {
  FakeBlenoBindings,
  FakeController,
  FAKE_START_MS as START_MS,
  virtualTimers,
  fakeHciWorld as world,
} from "./hci-fakes.js";
import { seededAdvertiser } from "./radio-contract.js";

/** The error `promise` rejects with. */
function rejection(promise: Promise<unknown>): Promise<RadioError> {
  return promise.then(
    () => {
      throw new Error("resolved");
    },
    (error: RadioError) => error,
  );
}

describe("hci advertiser privacy", () => {
  it("sets a random non-resolvable address, non-connectable, before enabling, at every rotation", async () => {
    const w = world();
    const a = await w.add(0);
    const src = seededAdvertiser("bluezone", w.nowMs());
    await a.radio.advertiser.start({ source: src, intervalMs: 250 });
    expect(a.radio.advertiser.addressMode).toBe("random");
    expect(a.controller.ownAddressType).toBe(1);
    expect(a.controller.advertisingType).toBe(3);
    expect(a.controller.intervalMs).toBe(250);
    expect(toHex(a.controller.address())).toBe(toHex(src.at(w.nowMs()).address));
    const rotations: number[] = [];
    a.radio.advertiser.on("rotated", (r) => rotations.push(r.rotation));
    await w.advance(3_600_000);
    expect(rotations.length).toBeGreaterThanOrEqual(3);
    expect(toHex(a.controller.address())).toBe(toHex(src.at(w.nowMs()).address));
    // Each rotation: enable off, then the address, then the parameters, never the address while on.
    const ops = a.controller.opcodes;
    for (let i = 0; i < ops.length; i++) {
      if (ops[i] !== OPCODE.leSetRandomAddress) continue;
      const lastEnable = ops.lastIndexOf(OPCODE.leSetAdvertisingEnable, i);
      expect(lastEnable).toBeGreaterThanOrEqual(0);
    }
    await a.radio.stop();
    expect(a.controller.enabled).toBe(false);
  });

  it("refuses a library without HCI access unless static addresses are allowed, and says what that exposes", async () => {
    const medium = new SimMedium({ startMs: START_MS });
    const timers = virtualTimers(medium.scheduler);
    const controller = new FakeController(medium, medium.addNode(0, 0));
    const open = (allowStaticAddress: boolean) =>
      openRadio("hci", {
        hci: {
          timers,
          allowStaticAddress,
          blenoBindings: () => new FakeBlenoBindings(controller, { exposeHci: false }),
        },
      });
    const refused = await open(false);
    const refusal = refused.advertiser.start({ source: seededAdvertiser("gaen", START_MS) });
    await expect(refusal).rejects.toThrow(
      /refusing.*link all of this device's IDs.*\(set allowStaticAddress to accept that\)$/,
    );
    const error = await rejection(refusal);
    expect(error.options).toEqual(["allowStaticAddress"]);
    expect(errorInFlags(error)).toMatch(/\(pass --allow-static-address to accept that\)$/);
    expect(refused.advertiser.state).toBe("unavailable");
    const allowed = (await open(true)) as HciRadio;
    await allowed.advertiser.start({ source: seededAdvertiser("gaen", START_MS) });
    expect(allowed.advertiser.addressMode).toBe("static");
    expect(controller.enabled).toBe(true);
    await allowed.stop();
  });

  it("refuses when the controller rejects LE Set Random Address", async () => {
    const w = world();
    const a = await w.add(0);
    a.controller.rejectRandomAddress = true;
    await expect(
      a.radio.advertiser.start({ source: seededAdvertiser("dp3t", w.nowMs()) }),
    ).rejects.toThrow(/rejected LE Set Random Address \(HCI status 0x01, unknown HCI command\)/);
    expect(a.controller.enabled).toBe(false);
  });

  it("refuses when the controller rejects the advertising parameters, and says what to try", async () => {
    const w = world();
    const a = await w.add(0);
    a.controller.rejectParameters = true;
    const error = await rejection(
      a.radio.advertiser.start({ source: seededAdvertiser("gaen", w.nowMs()), intervalMs: 100 }),
    );
    expect(error.message).toMatch(
      /rejected the advertising parameters \(HCI status 0x12, .*; interval 100 ms, non-connectable\): try intervalMs 250$/,
    );
    expect(error.options).toEqual(["intervalMs"]);
    expect(errorInFlags(error)).toMatch(/non-connectable\): try --interval 250$/);
    expect(a.controller.enabled).toBe(false);
  });
});

describe("hci radio", () => {
  it("puts the advertisement back when its own scanner starts (noble resets the controller)", async () => {
    const w = world();
    const a = await w.add(0);
    await a.radio.advertiser.start({ source: seededAdvertiser("gaen", w.nowMs()) });
    const addressesSet = () =>
      a.controller.opcodes.filter((op) => op === OPCODE.leSetRandomAddress).length;
    const before = addressesSet();
    // What noble's HCI reset does to the controller.
    a.controller.randomAddress = undefined;
    a.controller.write(Uint8Array.from([0x01, 0x0a, 0x20, 0x01, 0x00]));
    await a.radio.scanner.start();
    await w.advance(100);
    expect(addressesSet()).toBe(before + 1);
    expect(a.controller.enabled).toBe(true);
    expect(a.radio.advertiser.state).toBe("running");
    await a.radio.stop();
  });
});

describe("hci scanner", () => {
  it("goes unavailable when the adapter resets and resumes when it is back", async () => {
    const w = world();
    const a = await w.add(0);
    const b = await w.add(1);
    const states: RadioState[] = [];
    const sightings: RadioSighting[] = [];
    b.radio.scanner.on("state", (s) => states.push(s));
    b.radio.scanner.on("sighting", (s) => sightings.push(s));
    await b.radio.scanner.start();
    await a.radio.advertiser.start({ source: seededAdvertiser("gaen", w.nowMs()) });
    await w.advance(2_000);
    expect(sightings.length).toBeGreaterThan(3);
    b.noble[0].setState("poweredOff");
    await w.advance(1);
    expect(b.radio.scanner.state).toBe("unavailable");
    const during = sightings.length;
    await w.advance(2_000);
    expect(sightings.length).toBe(during);
    b.noble[0].setState("poweredOn");
    await w.advance(2_000);
    expect(b.radio.scanner.state).toBe("running");
    expect(sightings.length).toBeGreaterThan(during);
    expect(states).toEqual(["starting", "running", "unavailable", "running"]);
    await a.radio.stop();
    await b.radio.stop();
    expect(b.noble[0].stopped).toBe(true);
  });

  it("reopens noble with backoff when the adapter stays away", async () => {
    const w = world();
    const b = await w.add(1);
    const states: RadioState[] = [];
    b.radio.scanner.on("state", (s) => states.push(s));
    await b.radio.scanner.start();
    b.noble[0].setState("poweredOff");
    // Backoff 1 s, 2 s, then a third attempt at +4 s reopens noble over fresh bindings.
    await w.advance(8_000);
    expect(b.noble.length).toBe(2);
    expect(b.noble[0].stopped).toBe(true);
    expect(b.radio.scanner.state).toBe("running");
    expect(states.at(-1)).toBe("running");
    await b.radio.stop();
  });
});
