import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { runAdvertise } from "../../src/cli/commands/advertise.js";
import { toHex } from "../../src/core/hex.js";
import { SeededRandom } from "../../src/core/random.js";
import { saveKeyStore } from "../../src/io/key-store-file.js";
import { KeyStore } from "../../src/protocols/key-store.js";
import { MS_PER_DAY, type Protocol } from "../../src/protocols/rolling-id-scheme.js";
import { SimMedium } from "../../src/radio/sim/sim-medium.js";
import { FakeBlenoBindings, FakeController, virtualTimers } from "../radio/hci-fakes.js";
import { runCli, spawnCli } from "./run-cli.js";

const DAY_MS = Date.UTC(2021, 0, 4);

function keyStoreFile(protocol: Protocol, atMs = DAY_MS): string {
  const dir = mkdtempSync(join(tmpdir(), "proxkit-advertise-"));
  const path = join(dir, `${protocol}.keys.json`);
  const store = new KeyStore(protocol);
  store.ensureCurrent(atMs, new SeededRandom(3));
  saveKeyStore(path, store);
  return path;
}

function collect() {
  const out: string[] = [];
  const warnings: string[] = [];
  return {
    io: { write: (t: string) => void out.push(t), warn: (t: string) => void warnings.push(t) },
    lines: () =>
      out
        .join("")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    warnings,
  };
}

const bluetoothHere = existsSync("/sys/class/bluetooth");

describe("proxkit advertise", () => {
  it("--radio sim: one line per rotation, ID and address new each time, heard by a phone nearby", async () => {
    const keys = keyStoreFile("dp3t");
    const c = collect();
    const result = await runAdvertise(
      {
        radio: "sim",
        protocol: "dp3t",
        keyStore: keys,
        speed: Infinity,
        durationMs: 2 * 3_600_000,
        startMs: DAY_MS + 9 * 3_600_000,
        random: new SeededRandom(1),
      },
      c.io,
    );
    const lines = c.lines();
    expect(lines).toHaveLength(result.rotations);
    expect(result.rotations).toBeGreaterThanOrEqual(8);
    expect(new Set(lines.map((l) => l.ephid)).size).toBe(lines.length);
    expect(new Set(lines.map((l) => l.address)).size).toBe(lines.length);
    expect(lines[0]).toMatchObject({ event: "rotated", rotation: 0, protocol: "dp3t" });
    expect(result.heard).toBeGreaterThan(1000);
    expect(c.warnings.at(-1)).toMatch(/stopped after \d+ rotations.*heard \d+ advertisements/);
  });

  it("saves the new day's key to the key store (mode 0600) when the day changes", async () => {
    const keys = keyStoreFile("gaen");
    const before = JSON.parse(readFileSync(keys, "utf8")).keys.length;
    await runAdvertise(
      {
        radio: "sim",
        protocol: "gaen",
        keyStore: keys,
        speed: Infinity,
        durationMs: 3_600_000,
        startMs: DAY_MS + MS_PER_DAY - 1_800_000,
      },
      collect().io,
    );
    const after = JSON.parse(readFileSync(keys, "utf8"));
    expect(after.keys.length).toBe(before + 1);
    expect(statSync(keys).mode & 0o777).toBe(0o600);
  });

  it("--radio hci: the controller gets each rotation's random address (fake bindings under the real bleno)", async () => {
    const medium = new SimMedium({ startMs: DAY_MS + 9 * 3_600_000 });
    const timers = virtualTimers(medium.scheduler);
    const controller = new FakeController(medium, medium.addNode(0, 0));
    const clock = setInterval(() => medium.scheduler.runFor(60_000), 2);
    const c = collect();
    try {
      await runAdvertise(
        {
          radio: "hci",
          protocol: "bluezone",
          keyStore: keyStoreFile("bluezone", DAY_MS),
          durationMs: 400,
          hci: { timers, blenoBindings: () => new FakeBlenoBindings(controller) },
        },
        c.io,
      );
    } finally {
      clearInterval(clock);
    }
    const lines = c.lines();
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(controller.enabled).toBe(false);
    // The last address set on the controller is the last one announced.
    const address = [...(controller.randomAddress ?? [])]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join(":");
    expect(lines.at(-1).address).toBe(address);
    expect(toHex(controller.data).length).toBeGreaterThan(0);
  });

  it("--radio hci: a key store that cannot be saved stops advertising and the command, with the error", async () => {
    const medium = new SimMedium({ startMs: DAY_MS + MS_PER_DAY - 1_800_000 });
    const timers = virtualTimers(medium.scheduler);
    const controller = new FakeController(medium, medium.addNode(0, 0));
    const keys = keyStoreFile("gaen", DAY_MS);
    let clock: NodeJS.Timeout | undefined;
    const run = runAdvertise(
      {
        radio: "hci",
        protocol: "gaen",
        keyStore: keys,
        durationMs: 5000,
        hci: { timers, blenoBindings: () => new FakeBlenoBindings(controller) },
      },
      collect().io,
    );
    // Once on the air, the key store's folder goes away; midnight needs a new key saved.
    const started = setInterval(() => {
      if (!controller.enabled) return;
      clearInterval(started);
      rmSync(dirname(keys), { recursive: true });
      clock = setInterval(() => medium.scheduler.runFor(60_000), 2);
    }, 2);
    try {
      await expect(run).rejects.toThrow(
        /cannot create .*gaen\.keys\.json: folder .* does not exist/,
      );
    } finally {
      clearInterval(started);
      clearInterval(clock);
    }
    expect(controller.enabled).toBe(false);
  });

  it("--radio hci without a way to set a random address: refuses, or warns with --allow-static-address", async () => {
    const medium = new SimMedium({ startMs: DAY_MS });
    const timers = virtualTimers(medium.scheduler);
    const controller = new FakeController(medium, medium.addNode(0, 0));
    const options = {
      radio: "hci" as const,
      protocol: "gaen" as const,
      keyStore: keyStoreFile("gaen"),
      durationMs: 50,
      hci: {
        timers,
        blenoBindings: () => new FakeBlenoBindings(controller, { exposeHci: false }),
      },
    };
    await expect(runAdvertise(options, collect().io)).rejects.toThrow(
      /refusing to advertise a rotating ID without a rotating address/,
    );
    const c = collect();
    await runAdvertise({ ...options, allowStaticAddress: true }, c.io);
    expect(c.warnings[0]).toMatch(
      /warning: advertising from the adapter's fixed address.*link all/,
    );
    expect(c.lines()[0].address).toBe("adapter");
  });

  it("bad input is exit 2 with one line", () => {
    const keys = keyStoreFile("gaen");
    const wrong = runCli(["advertise", "-p", "dp3t", "-k", keys, "--radio", "sim"]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/holds gaen keys, not dp3t/);
    expect(runCli(["advertise", "-p", "gaen", "-k", "/nonexistent/k.json"]).stderr).toMatch(
      /does not exist \(create one with: proxkit keys new\)/,
    );
    expect(runCli(["advertise", "-p", "gaen", "-k", keys, "--interval", "5"]).code).toBe(2);
    const help = runCli(["advertise", "--help"]);
    for (const option of ["--allow-static-address", "--hci", "--key-store", "--duration"])
      expect(help.stdout).toContain(option);
  });

  it.skipIf(bluetoothHere)(
    "--radio hci on this machine (no Bluetooth): exits 1 within 5 s with the sentence and the fix",
    () => {
      const started = Date.now();
      const result = runCli(["advertise", "-p", "gaen", "-k", keyStoreFile("gaen", Date.now())]);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^proxkit: no Bluetooth adapter found .*\n$/);
    },
  );

  it("SIGTERM stops advertising cleanly (exit 0)", async () => {
    const keys = keyStoreFile("bluezone", Date.now());
    const run = spawnCli(["advertise", "-p", "bluezone", "-k", keys, "--radio", "sim"]);
    await run.firstLine;
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    expect(JSON.parse(run.stdout().split("\n")[0])).toMatchObject({
      event: "rotated",
      protocol: "bluezone",
    });
    expect(run.stderr()).toMatch(/stopped after 1 rotation/);
  }, 20_000);
});
