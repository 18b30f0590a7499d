/**
 * The radio registry: every radio a back-end can open (its variants) runs the Radio contract
 * suite here, with a harness from contract-harnesses.ts, but for the parts the registry says it
 * does not run, each with why; what a back-end cannot do, the CLI refuses with one line and
 * exit code 2.
 */
import { describe, expect, it } from "vitest";
import { PROTOCOLS } from "../../src/protocols/rolling-id-scheme.js";
import type { RadioSighting } from "../../src/radio/radio.js";
import {
  checkRadioCan,
  describeRadios,
  openRadio,
  RADIO_BACKENDS,
  type RadioContractPart,
  radioBackends,
} from "../../src/radio/radio-backends.js";
import { SimSceneRadio } from "../../src/radio/sim/sim-scene.js";
import { runCli } from "../cli/run-cli.js";
import { CONTRACT_HARNESSES } from "./contract-harnesses.js";
import { radioContract } from "./radio-contract.js";

const PARTS: readonly RadioContractPart[] = ["air", "scanner", "advertiser"];
const VARIANTS = RADIO_BACKENDS.flatMap((b) => b.variants.map((v) => [v.name, v, b] as const));

describe("the radio registry", () => {
  it("keeps the names users type", () => {
    expect(radioBackends().sort()).toEqual(["hci", "replay", "sim"]);
  });

  it("names every radio once, each back-end's asked for by options of its own", () => {
    expect(new Set(VARIANTS.map(([name]) => name)).size).toBe(VARIANTS.length);
    for (const backend of RADIO_BACKENDS) {
      expect(backend.variants.length).toBeGreaterThan(0);
      const options = backend.variants.map((v) => v.option);
      expect(new Set(options).size).toBe(options.length);
    }
    // No harness for a radio the registry does not list.
    expect(VARIANTS.map(([name]) => name)).toEqual(
      expect.arrayContaining(Object.keys(CONTRACT_HARNESSES)),
    );
  });

  it.each(RADIO_BACKENDS.map((b) => [b.name, b] as const))(
    "%s declares what it cannot do, and leaves those parts of the suite to none of its radios",
    (_name, backend) => {
      expect(backend.description).not.toMatch(/\n/);
      if (!backend.scans || !backend.advertises) expect(backend.cannot).toBeTruthy();
      for (const variant of backend.variants) {
        if (!backend.advertises) expect(variant.untested?.advertiser).toBeTruthy();
        if (!backend.scans) expect(variant.untested?.scanner).toBeTruthy();
      }
    },
  );

  it.each(VARIANTS)(
    "%s runs the contract suite, or says why not for each part it does not run",
    (name, variant) => {
      expect(variant.description).not.toMatch(/\n/);
      for (const part of Object.keys(variant.untested ?? {}))
        expect(PARTS as readonly string[]).toContain(part);
      for (const why of Object.values(variant.untested ?? {})) expect(why).toMatch(/^[^\n]{20,}$/);
      const runs = PARTS.filter((part) => variant.untested?.[part] === undefined);
      if (runs.length > 0) expect(Object.keys(CONTRACT_HARNESSES[name] ?? {})).not.toEqual([]);
    },
  );

  it.each(VARIANTS)("%s is what its back-end opens for its option", async (name, _variant, b) => {
    const [make] = Object.values(CONTRACT_HARNESSES[name] ?? {});
    if (!make) return;
    const harness = make();
    const { a, b: scanner } = await harness.pair();
    expect([a, scanner].map((r) => r.constructor.name)).toContain(name);
    expect([a, scanner].map((r) => r.backend)).toContain(b.name);
    await a.stop();
    await scanner.stop();
    await harness.cleanup?.();
  });

  it("says what a back-end cannot do, and what can", async () => {
    expect(checkRadioCan("sim", "advertise").name).toBe("sim");
    expect(() => checkRadioCan("replay", "advertise")).toThrow(
      /^the replay radio cannot advertise: it plays back a capture.*; use sim or hci$/,
    );
    await expect(openRadio("bluetooth")).rejects.toThrow(
      /^unknown radio "bluetooth": use one of sim, replay, hci$/,
    );
    await expect(openRadio("sim")).rejects.toThrow(/the sim radio needs a medium/);
    await expect(openRadio("replay")).rejects.toThrow(/needs a capture/);
    expect(describeRadios({}, "advertise")).toMatch(/replay: .* \(cannot advertise\)/);
    expect(describeRadios({}, "scan")).not.toMatch(/cannot/);
  });

  it.each(RADIO_BACKENDS.filter((b) => !b.advertises).map((b) => [b.name]))(
    "proxkit advertise --radio %s is refused with one line, exit 2",
    (name) => {
      const r = runCli(["advertise", "-p", "gaen", "-k", "/nonexistent/k.json", "--radio", name]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(
        new RegExp(`^proxkit: the ${name} radio cannot advertise: [^\\n]+\\n$`),
      );
    },
  );
});

for (const [name, variant, backend] of VARIANTS)
  for (const [label, make] of Object.entries(CONTRACT_HARNESSES[name] ?? {}))
    radioContract(`${backend.name}: ${name} (${label})`, make(), variant.untested);

describe("the sim scene (proxkit scan --radio sim)", () => {
  it("opens through the registry: phones of every protocol walk around the scanner", async () => {
    const startMs = Date.UTC(2026, 10, 27, 9);
    const radio = await openRadio("sim", { scene: { startMs, devices: 3, seed: 2 } });
    expect(radio).toBeInstanceOf(SimSceneRadio);
    const scene = radio as SimSceneRadio;
    const heard: RadioSighting[] = [];
    scene.scanner.on("sighting", (s) => heard.push(s));
    await scene.scanner.start();
    scene.medium.scheduler.runUntil(startMs + 30_000);
    expect(new Set(heard.map((s) => s.protocol))).toEqual(new Set(PROTOCOLS));
    await scene.stop();
    const count = heard.length;
    scene.medium.scheduler.runUntil(startMs + 60_000);
    expect(heard.length).toBe(count);
    expect(scene.scanner.state).toBe("stopped");
  });
});
