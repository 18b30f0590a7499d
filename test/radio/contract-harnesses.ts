/**
 * A harness for the Radio contract suite (radio-contract.ts) for every radio the registry
 * opens, by the variant's name, each under one or more labels; radio-backends.test.ts runs the
 * suite over each. All run on a virtual clock:
 * - `SimRadio`: two radios 1.5 m apart in a medium;
 * - `SimSceneRadio`: a scene without its walking phones (so that what it hears is `a`'s alone)
 *   and a `SimRadio` 1.5 m away in the scene's medium, once to advertise to the scene, once to
 *   hear the scene advertise;
 * - `WorldRadio`: the `checkpoint-queue` crowd, whose fixed scanner hears the visitors' phones;
 *   it is both `a` and `b`, since nothing else shares its air;
 * - `ReplayRadio`: a replay radio cannot transmit, so a simulated advertiser (radio `a`) is
 *   heard by a simulated receiver at b's place that writes every sighting, as the simulation
 *   runs, as an LE advertising report event in a btsnoop file, exactly as btmon would record
 *   it; the replay radio (`b`) follows that capture. The suite thus checks the whole path:
 *   spec-correct packets, btsnoop records, streaming reader, decoding, protocol filter, duty
 *   cycle and stop();
 * - `HciRadio`: the real noble and bleno classes over fake bindings (hci-fakes.ts), reporting
 *   what they hear as noble parses it, or as raw HCI advertising reports.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WorldRadio } from "../../sim/engine/world-radio.js";
import { builtInScenario } from "../../sim/world/scenario.js";
import { commandPacket, leSetScanEnable } from "../../src/radio/hci-commands.js";
import type { Radio, RadioSighting } from "../../src/radio/radio.js";
import { openRadio } from "../../src/radio/radio-backends.js";
import { DATALINK_H4, DATALINK_MONITOR } from "../../src/radio/replay/btsnoop.js";
import { BtsnoopWriter, type WritableDatalink } from "../../src/radio/replay/btsnoop-writer.js";
import {
  encodeAdvertisingReportEvent,
  encodeExtendedAdvertisingReportEvent,
} from "../../src/radio/replay/hci-events.js";
import type { ReplayRadio } from "../../src/radio/replay/replay-radio.js";
import { SimMedium } from "../../src/radio/sim/sim-medium.js";
import type { SimSceneRadio } from "../../src/radio/sim/sim-scene.js";
import { fakeHciWorld } from "./hci-fakes.js";
import type { RadioHarness } from "./radio-contract.js";

const START_MS = Date.UTC(2021, 0, 4, 9);

function simHarness(): RadioHarness {
  let medium: SimMedium;
  return {
    async pair() {
      medium = new SimMedium({ startMs: START_MS, seed: 3 });
      const a = await openRadio("sim", { sim: { medium, x: 0, y: 0 } });
      const b = await openRadio("sim", { sim: { medium, x: 1.5, y: 0 } });
      return { a, b, nowMs: () => medium.scheduler.nowMs() };
    },
    async advance(ms) {
      medium.scheduler.runFor(ms);
    },
  };
}

function sceneHarness(sceneAdvertises: boolean): RadioHarness {
  let scene: SimSceneRadio;
  return {
    async pair() {
      scene = (await openRadio("sim", {
        scene: { startMs: START_MS, devices: 0, seed: 3 },
      })) as SimSceneRadio;
      const other = await openRadio("sim", { sim: { medium: scene.medium, x: 1.5, y: 0 } });
      const nowMs = () => scene.medium.scheduler.nowMs();
      return sceneAdvertises ? { a: scene, b: other, nowMs } : { a: other, b: scene, nowMs };
    },
    async advance(ms) {
      scene.medium.scheduler.runFor(ms);
    },
  };
}

function worldHarness(): RadioHarness {
  let world: WorldRadio;
  return {
    async pair() {
      world = (await openRadio("sim", {
        world: { scenario: builtInScenario("checkpoint-queue"), seed: 4, startMs: START_MS },
      })) as WorldRadio;
      return { a: world, b: world, nowMs: () => world.nowMs() };
    },
    advance: (ms) => world.run(world.nowMs() + ms),
  };
}

function replayHarness(datalink: WritableDatalink, extended: boolean): RadioHarness {
  let medium: SimMedium;
  let writer: BtsnoopWriter;
  let replay: ReplayRadio;
  const open: { radio: Radio; dir: string }[] = [];
  return {
    async pair() {
      medium = new SimMedium({ startMs: START_MS, seed: 3 });
      const a = await openRadio("sim", { sim: { medium, x: 0, y: 0 } });
      const recorder = await openRadio("sim", { sim: { medium, x: 1.5, y: 0 } });
      const dir = mkdtempSync(join(tmpdir(), "proxkit-replay-"));
      const path = join(dir, "capture.btsnoop");
      writer = new BtsnoopWriter(path, datalink);
      const startMs = medium.scheduler.nowMs();
      // A capture starts where the scan starts (btmon also records New Index first).
      writer.newIndex(startMs, Uint8Array.of(0, 0x1b, 0xdc, 1, 2, 3));
      writer.command(startMs, commandPacket(leSetScanEnable(true)));
      const encode = extended ? encodeExtendedAdvertisingReportEvent : encodeAdvertisingReportEvent;
      recorder.scanner.on("sighting", (s: RadioSighting) =>
        writer.event(s.atMs, encode([{ address: s.address, rssiDbm: s.rssiDbm, data: s.payload }])),
      );
      await recorder.scanner.start();
      writer.flush();
      replay = (await openRadio("replay", {
        replay: { capture: path, speed: 0, follow: true, pollMs: 5 },
      })) as ReplayRadio;
      open.push({ radio: replay, dir });
      return { a, b: replay, nowMs: () => medium.scheduler.nowMs() };
    },
    async advance(ms) {
      medium.scheduler.runFor(ms);
      writer.flush();
      await replay.scanner.caughtUp();
    },
    async cleanup() {
      for (const { radio, dir } of open.splice(0)) {
        await radio.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function hciHarness(raw: boolean): RadioHarness {
  let current = fakeHciWorld({ raw });
  return {
    async pair() {
      current = fakeHciWorld({ raw });
      const a = await current.add(0);
      const b = await current.add(1.5);
      return { a: a.radio, b: b.radio, nowMs: current.nowMs };
    },
    advance: (ms) => current.advance(ms),
  };
}

/** Harness factories by variant name (`RadioVariant.name`), then by label. */
export const CONTRACT_HARNESSES: Readonly<
  Record<string, Readonly<Record<string, () => RadioHarness>>>
> = {
  SimRadio: { "two radios in a medium": simHarness },
  SimSceneRadio: {
    "a scene without phones, a SimRadio advertising": () => sceneHarness(false),
    "a scene without phones advertising, a SimRadio scanning": () => sceneHarness(true),
  },
  WorldRadio: { "the checkpoint-queue crowd": worldHarness },
  ReplayRadio: {
    "H4 capture, legacy reports": () => replayHarness(DATALINK_H4, false),
    "btmon capture, extended reports": () => replayHarness(DATALINK_MONITOR, true),
  },
  HciRadio: {
    "fake bindings, noble's parsed advertisements": () => hciHarness(false),
    "fake bindings, raw HCI advertising reports": () => hciHarness(true),
  },
};
