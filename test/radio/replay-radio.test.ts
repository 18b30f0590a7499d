/**
 * The replay back-end: captures played to their end, at their pace, cut short, and refused
 * (its contract suite runs in radio-backends.test.ts, over captures a simulation writes).
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { fromHex } from "../../src/core/hex.js";
import { commandPacket, leSetScanEnable } from "../../src/radio/hci-commands.js";
import { openRadio, radioBackends } from "../../src/radio/open-radio.js";
import type { RadioSighting } from "../../src/radio/radio.js";
import { DATALINK_H4, DATALINK_MONITOR } from "../../src/radio/replay/btsnoop.js";
import { BtsnoopWriter } from "../../src/radio/replay/btsnoop-writer.js";
import { encodeAdvertisingReportEvent } from "../../src/radio/replay/hci-events.js";
import type { ReplayRadio } from "../../src/radio/replay/replay-radio.js";

const dir = mkdtempSync(join(tmpdir(), "proxkit-replay-"));
const open: ReplayRadio[] = [];

afterEach(async () => {
  for (const radio of open.splice(0)) await radio.stop();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("replay radio", () => {
  it("is registered as a back-end", () => {
    expect(radioBackends()).toContain("replay");
  });

  it("cannot advertise: start() fails with a clear RadioError", async () => {
    const path = join(dir, "empty.btsnoop");
    new BtsnoopWriter(path, DATALINK_MONITOR).close();
    const radio = await openRadio("replay", { replay: { capture: path } });
    await expect(radio.advertiser.start({} as never)).rejects.toThrow(/cannot transmit/);
    expect(radio.advertiser.state).toBe("unavailable");
    await radio.stop();
  });

  it("needs its options, and a capture that exists and is btsnoop", async () => {
    await expect(openRadio("replay")).rejects.toThrow(/needs a capture/);
    await expect(openRadio("replay", { replay: { capture: "x", speed: -1 } })).rejects.toThrow(
      /replay speed/,
    );
    const missing = await openRadio("replay", { replay: { capture: join(dir, "nope.btsnoop") } });
    await expect(missing.scanner.start()).rejects.toThrow(/does not exist/);
    const text = join(dir, "text.btsnoop");
    writeFileSync(text, "hello, this is not a capture");
    const wrong = await openRadio("replay", { replay: { capture: text } });
    await expect(wrong.scanner.start()).rejects.toThrow(/not a btsnoop file/);
    expect(wrong.scanner.state).toBe("idle");
  });

  const GAEN = fromHex("02011a03036ffd17166ffd8be6cd371c5c891604bfbe49df84509672033874");
  const T0 = Date.UTC(2021, 0, 4, 9);

  /** A capture of `count` GAEN reports `stepMs` apart. */
  function capture(name: string, count: number, stepMs: number): string {
    const path = join(dir, name);
    const writer = new BtsnoopWriter(path, DATALINK_H4);
    for (let i = 0; i < count; i++)
      writer.event(
        T0 + i * stepMs,
        encodeAdvertisingReportEvent([
          { address: fromHex("1a2b3c4d5e6f"), rssiDbm: -40 - i, data: GAEN },
        ]),
      );
    writer.close();
    return path;
  }

  it("plays a capture to its end: capture times, then state stopped", async () => {
    const path = capture("ten.btsnoop", 10, 100);
    const radio = (await openRadio("replay", {
      replay: { capture: path, speed: 0 },
    })) as ReplayRadio;
    const seen: RadioSighting[] = [];
    const states: string[] = [];
    radio.scanner.on("sighting", (s) => seen.push(s));
    radio.scanner.on("state", (s) => states.push(s));
    await radio.scanner.start();
    await radio.scanner.stopped();
    expect(seen.map((s) => s.atMs)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + i * 100));
    expect(seen.map((s) => s.rssiDbm)).toEqual(Array.from({ length: 10 }, (_, i) => -40 - i));
    expect(states).toEqual(["running", "stopped"]);
    expect(radio.scanner.counts.sightings).toBe(10);
    // It can play the capture again.
    await radio.scanner.start();
    await radio.scanner.stopped();
    expect(seen).toHaveLength(20);
  });

  it("keeps the recorded pace, or a multiple of it", async () => {
    // 6 reports 100 ms apart: 500 ms of capture.
    const path = capture("paced.btsnoop", 6, 100);
    for (const [speed, atLeastMs] of [
      [1, 450],
      [5, 90],
    ] as const) {
      const radio = (await openRadio("replay", {
        replay: { capture: path, speed },
      })) as ReplayRadio;
      const started = performance.now();
      await radio.scanner.start();
      await radio.scanner.stopped();
      expect(performance.now() - started).toBeGreaterThanOrEqual(atLeastMs);
    }
  });

  it("keeps a capture's leading silence at the recorded pace", async () => {
    const path = join(dir, "silence.btsnoop");
    const writer = new BtsnoopWriter(path, DATALINK_MONITOR);
    writer.command(T0, commandPacket(leSetScanEnable(true)));
    writer.event(
      T0 + 300,
      encodeAdvertisingReportEvent([
        { address: fromHex("1a2b3c4d5e6f"), rssiDbm: -50, data: GAEN },
      ]),
    );
    writer.close();
    const radio = (await openRadio("replay", { replay: { capture: path } })) as ReplayRadio;
    const started = performance.now();
    let firstAfterMs = -1;
    radio.scanner.on("sighting", () => {
      firstAfterMs = performance.now() - started;
    });
    await radio.scanner.start();
    await radio.scanner.stopped();
    expect(firstAfterMs).toBeGreaterThanOrEqual(280);
  });

  it("stop() ends a paced replay at once, with no sighting after it", async () => {
    const path = capture("long.btsnoop", 100, 1_000);
    const radio = (await openRadio("replay", {
      replay: { capture: path, speed: 1 },
    })) as ReplayRadio;
    let count = 0;
    radio.scanner.on("sighting", () => count++);
    await radio.scanner.start();
    while (count === 0) await new Promise((r) => setTimeout(r, 5));
    await radio.stop();
    const after = count;
    expect(after).toBe(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(count).toBe(after);
    expect(radio.scanner.state).toBe("stopped");
  });

  it("a capture that turns out truncated stops the scan with a CodecError naming the offset", async () => {
    const path = capture("cut.btsnoop", 3, 10);
    appendFileSync(path, Buffer.from("000000ff", "hex"));
    const radio = (await openRadio("replay", {
      replay: { capture: path, speed: 0 },
    })) as ReplayRadio;
    const errors: Error[] = [];
    radio.scanner.on("error", (e) => errors.push(e));
    await radio.scanner.start();
    await expect(radio.scanner.stopped()).rejects.toThrow(/cut.btsnoop: .*truncated.*byte offset/);
    expect(errors).toHaveLength(1);
    expect(radio.scanner.state).toBe("stopped");
  });

  it("follows a growing capture", async () => {
    const path = join(dir, "growing.btsnoop");
    const writer = new BtsnoopWriter(path, DATALINK_MONITOR);
    writer.flush();
    const radio = (await openRadio("replay", {
      replay: { capture: path, speed: 0, follow: true, pollMs: 10 },
    })) as ReplayRadio;
    open.push(radio);
    const seen: number[] = [];
    radio.scanner.on("sighting", (s) => seen.push(s.atMs));
    await radio.scanner.start();
    for (let i = 0; i < 3; i++) {
      writer.event(
        T0 + i,
        encodeAdvertisingReportEvent([
          { address: fromHex("1a2b3c4d5e6f"), rssiDbm: -50, data: GAEN },
        ]),
      );
      writer.flush();
      await radio.scanner.caughtUp();
      expect(seen).toHaveLength(i + 1);
    }
    writer.close();
  });
});
