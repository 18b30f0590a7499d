/**
 * The radio registry: every back-end the CLI can open either runs the Radio contract (a
 * `radioContract("<name> ...")` in this folder) or declares what it cannot do, and the CLI
 * refuses that with one line and exit code 2.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { PROTOCOLS } from "../../src/protocols/rolling-id-scheme.js";
import type { RadioSighting } from "../../src/radio/radio.js";
import {
  checkRadioCan,
  describeRadios,
  openRadio,
  RADIO_BACKENDS,
  radioBackends,
} from "../../src/radio/radio-backends.js";
import { SimSceneRadio } from "../../src/radio/sim/sim-scene.js";
import { runCli } from "../cli/run-cli.js";

const here = dirname(fileURLToPath(import.meta.url));

/** The back-ends named by a radioContract(...) call of this folder's tests. */
function contractBackends(): Set<string> {
  const names = new Set<string>();
  for (const file of readdirSync(here).filter((f) => f.endsWith(".test.ts")))
    for (const m of readFileSync(join(here, file), "utf8").matchAll(/radioContract\("(\w+)/g))
      names.add(m[1]);
  return names;
}

describe("the radio registry", () => {
  it("keeps the names users type", () => {
    expect(radioBackends().sort()).toEqual(["hci", "replay", "sim"]);
  });

  it.each(RADIO_BACKENDS.map((b) => [b.name, b] as const))(
    "%s runs the contract suite and declares what it cannot do",
    (name, backend) => {
      expect(contractBackends()).toContain(name);
      expect(backend.description).not.toMatch(/\n/);
      if (!backend.scans || !backend.advertises) expect(backend.cannot).toBeTruthy();
    },
  );

  it("says what a back-end cannot do, and what can", async () => {
    expect(checkRadioCan("sim", "advertise").name).toBe("sim");
    expect(() => checkRadioCan("replay", "advertise")).toThrow(
      /^the replay radio cannot advertise: it plays back a capture.*; use sim or hci$/,
    );
    await expect(openRadio("bluetooth")).rejects.toThrow(/unknown radio "bluetooth"/);
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
