import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runScan, type ScanOptions } from "../../src/cli/commands/scan.js";
import { openRadio } from "../../src/radio/open-radio.js";
import { DATALINK_H4 } from "../../src/radio/replay/btsnoop.js";
import { BtsnoopWriter } from "../../src/radio/replay/btsnoop-writer.js";
import { encodeAdvertisingReportEvent } from "../../src/radio/replay/hci-events.js";
import { SimMedium } from "../../src/radio/sim/sim-medium.js";
import {
  FakeBlenoBindings,
  FakeController,
  FakeNobleBindings,
  virtualTimers,
} from "../radio/hci-fakes.js";
import { seededAdvertiser } from "../radio/radio-contract.js";
import { runCli, spawnCli } from "./run-cli.js";

function collect() {
  const out: string[] = [];
  return { io: { write: (t: string) => void out.push(t), live: false }, text: () => out.join("") };
}

const bluetoothHere = existsSync("/sys/class/bluetooth");

describe("proxkit scan", () => {
  it("--radio sim: every protocol of the scene, as JSON lines", async () => {
    const out = collect();
    const base: ScanOptions = {
      radio: "sim",
      format: "jsonl",
      speed: Infinity,
      durationMs: 60_000,
    };
    const { sightings } = await runScan(base, out.io);
    const lines = out
      .text()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(sightings);
    expect(new Set(lines.map((l) => l.protocol))).toEqual(new Set(["gaen", "dp3t", "bluezone"]));
    for (const l of lines) {
      expect(typeof l.t).toBe("number");
      expect(l.rssi).toBeLessThan(0);
      expect(l.address).toBeUndefined();
    }
    const only = collect();
    await runScan({ ...base, protocols: ["bluezone"], addresses: true }, only.io);
    const bluezone = only
      .text()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(bluezone.length).toBeGreaterThan(0);
    for (const l of bluezone) {
      expect(l.protocol).toBe("bluezone");
      expect(l.address).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    }
  });

  it("--radio sim --format table: one row per ID with smoothed RSSI and distance", async () => {
    const out = collect();
    await runScan(
      {
        radio: "sim",
        format: "table",
        speed: Infinity,
        durationMs: 120_000,
        simDevices: 3,
        // Two minutes inside one 15-minute slot: no ID rotates, so one row per device.
        simStartMs: Date.UTC(2026, 0, 5, 9, 1),
      },
      out.io,
    );
    const lines = out.text().trim().split("\n");
    expect(lines[0].split(/\s+/)).toEqual([
      "protocol",
      "id",
      "seen",
      "rssi",
      "smoothed_rssi",
      "distance_m",
      "age_s",
    ]);
    const rows = lines.slice(2, -1).map((l) => l.split(/\s+/));
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(Number(row[4])).toBeLessThan(0);
      expect(Number(row[5])).toBeGreaterThan(0);
    }
    // Sorted by smoothed RSSI, strongest first.
    expect(Number(rows[0][4])).toBeGreaterThanOrEqual(Number(rows[2][4]));
    expect(lines.at(-1)).toMatch(/^\d+ sightings$/);
  });

  it("--radio hci: sightings from an adapter (fake bindings under the real noble)", async () => {
    const medium = new SimMedium({ startMs: Date.UTC(2021, 0, 4, 9), seed: 5 });
    const timers = virtualTimers(medium.scheduler);
    const tx = medium.addNode(0, 0);
    const rx = medium.addNode(2, 0);
    const controller = new FakeController(medium, tx);
    const advertiser = await openRadio("hci", {
      hci: { timers, blenoBindings: () => new FakeBlenoBindings(controller) },
    });
    await advertiser.advertiser.start({
      source: seededAdvertiser("dp3t", medium.scheduler.nowMs(), 7),
    });
    const clock = setInterval(() => medium.scheduler.runFor(1000), 5);
    const out = collect();
    try {
      await runScan(
        {
          radio: "hci",
          format: "jsonl",
          durationMs: 300,
          hci: { timers, nobleBindings: () => new FakeNobleBindings(medium, rx) },
        },
        out.io,
      );
    } finally {
      clearInterval(clock);
      await advertiser.stop();
    }
    const lines = out
      .text()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.every((l) => l.protocol === "dp3t" && typeof l.ephid === "string")).toBe(true);
  });

  it("--radio hci: says when the adapter goes away and when it is back, and keeps scanning", async () => {
    const medium = new SimMedium({ startMs: Date.UTC(2021, 0, 4, 9), seed: 5 });
    const timers = virtualTimers(medium.scheduler);
    const rx = medium.addNode(2, 0);
    const bindings = new FakeNobleBindings(medium, rx);
    const warnings: string[] = [];
    const clock = setInterval(() => medium.scheduler.runFor(500), 5);
    const flap = setTimeout(() => bindings.setState("poweredOff"), 100);
    const back = setTimeout(() => bindings.setState("poweredOn"), 200);
    try {
      await runScan(
        {
          radio: "hci",
          format: "jsonl",
          durationMs: 400,
          hci: { timers, nobleBindings: () => bindings },
        },
        { write: () => {}, warn: (t) => void warnings.push(t), live: false },
      );
    } finally {
      clearInterval(clock);
      clearTimeout(flap);
      clearTimeout(back);
    }
    expect(warnings).toEqual([
      "the adapter went away (reset, powered off or unplugged); retrying with backoff",
      "the adapter is back; scanning again",
    ]);
  });

  it("--radio replay: a btsnoop capture plays back as sightings and the scan ends with it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "proxkit-scan-"));
    const path = join(dir, "capture.btsnoop");
    const writer = new BtsnoopWriter(path, DATALINK_H4);
    const src = seededAdvertiser("gaen", Date.UTC(2021, 0, 4, 9), 7);
    for (let i = 0; i < 20; i++) {
      const atMs = Date.UTC(2021, 0, 4, 9) + i * 250;
      const b = src.at(atMs);
      writer.event(
        atMs,
        encodeAdvertisingReportEvent([{ address: b.address, data: b.payload, rssiDbm: -60 - i }]),
      );
    }
    writer.close();
    const out = collect();
    const { sightings } = await runScan(
      { radio: "replay", capture: path, format: "jsonl", speed: Infinity },
      out.io,
    );
    expect(sightings).toBe(20);
    const first = JSON.parse(out.text().split("\n")[0]);
    expect(first).toMatchObject({ t: Date.UTC(2021, 0, 4, 9) / 1000, protocol: "gaen", rssi: -60 });
  });

  it("bad combinations are bad input (exit 2) with one line", () => {
    const noCapture = runCli(["scan", "--radio", "replay"]);
    expect(noCapture.code).toBe(2);
    expect(noCapture.stderr.trim()).toBe(
      "proxkit: --radio replay needs --capture FILE (a btsnoop capture)",
    );
    expect(runCli(["scan", "--radio", "sim", "--speed", "max"]).stderr).toMatch(/needs --duration/);
    expect(runCli(["scan", "--radio", "sim", "--duration", "soon"]).code).toBe(2);
    expect(runCli(["scan", "--radio", "sim", "--scan-window", "2s"]).stderr).toMatch(/go together/);
    expect(runCli(["scan", "--radio", "sim", "--hci", "1"]).stderr).toMatch(
      /--hci is only for --radio hci/,
    );
    const help = runCli(["scan", "--help"]);
    for (const option of [
      "--radio",
      "--protocol",
      "--duration",
      "--format",
      "--hci",
      "--capture",
      "--speed",
    ])
      expect(help.stdout).toContain(option);
  });

  it.skipIf(bluetoothHere)(
    "--radio hci on this machine (no Bluetooth): exits 1 within 5 s with the sentence and the fix",
    () => {
      const started = Date.now();
      const result = runCli(["scan", "--radio", "hci", "--duration", "1m"]);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^proxkit: no Bluetooth adapter found .*--radio sim\n$/);
      expect(result.stdout).toBe("");
    },
  );

  it("Ctrl-C stops a live scan cleanly (exit 0, last line complete)", async () => {
    const run = spawnCli(["scan", "--radio", "sim", "-f", "jsonl"]);
    await run.firstLine;
    const sent = Date.now();
    run.child.kill("SIGINT");
    expect(await run.exited).toBe(0);
    expect(Date.now() - sent).toBeLessThan(3000);
    expect(run.stdout().endsWith("\n")).toBe(true);
  }, 20_000);
});
