import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultDetectors, detectContacts } from "../../../sim/pipeline/detect-contacts.js";
import { readRunFiles, writeRunFiles } from "../../../sim/pipeline/run-files.js";
import {
  rerunFolder,
  runPipeline,
  BIG_RUN_AGENT_HOURS,
  cityThreads,
  matchChunkMsFor,
  runSummary,
  runThreads,
  streamPipeline,
} from "../../../sim/pipeline/run-pipeline.js";
import { senderOfId } from "../../../sim/pipeline/sender-of-id.js";
import { pickIndexCases, simulateRun } from "../../../sim/pipeline/simulate-run.js";
import { builtInScenario } from "../../../sim/world/scenario.js";
import { toHex } from "../../../src/core/hex.js";
import { PRESET_NAMES } from "../../../src/exposure/risk-preset.js";

// A small classroom: 10 agents for 20 minutes keeps each run well under a second.
const small = { seed: 5, agents: 10, durationS: 1200 } as const;

describe("simulateRun", () => {
  const run = simulateRun(builtInScenario("classroom"), small);

  it("stores what each phone heard, and every stored sighting comes from an agent's own keys", () => {
    expect(run.sightings).toHaveLength(10);
    expect(run.sightingCount).toBe(run.sightings.reduce((s, l) => s + l.length, 0));
    expect(run.sightingCount).toBeGreaterThan(100);
    const sender = senderOfId(run.truth.agents);
    run.sightings.forEach((list, receiver) => {
      for (const s of list) {
        const from = sender.get(toHex(s.id));
        expect(from).toBeDefined();
        expect(from).not.toBe(receiver);
        expect(Number.isInteger(s.atMs)).toBe(true);
      }
    });
  });

  it("by default every agent is an index case and publishes the keys its phone advertised", () => {
    expect(run.indexCases).toEqual([...Array(10).keys()]);
    const published = new Set(run.published.gaen.map((k) => toHex(k.keyData)));
    for (const a of run.truth.agents) {
      expect(a.keys.length).toBeGreaterThan(0);
      for (const k of a.keys) expect(published.has(toHex(k.key))).toBe(true);
    }
    for (const k of run.published.gaen) {
      expect(k.rollingPeriod).toBe(144);
      expect(k.rollingStartIntervalNumber % 144).toBe(0);
    }
  });

  it("ground truth: close intervals add up to each pair's close time, within the run", () => {
    expect(run.truth.pairs.length).toBeGreaterThan(0);
    for (const p of run.truth.pairs) {
      expect(p.a).toBeLessThan(p.b);
      const sum = p.closeIntervals.reduce((s, [from, to]) => s + (to - from), 0);
      expect(sum).toBe(p.closeS);
      for (const [from, to] of p.closeIntervals) {
        expect(from).toBeGreaterThanOrEqual(0);
        expect(to).toBeLessThanOrEqual(small.durationS + 1);
      }
      expect(p.minDistanceM).toBeLessThanOrEqual(2);
    }
  });

  it("samples RSSI against true distance from the run's own sightings", () => {
    expect(run.rssiVsDistance.length).toBeGreaterThan(100);
    expect(run.rssiVsDistance.length).toBeLessThanOrEqual(3000);
    for (const p of run.rssiVsDistance) {
      expect(p.distanceM).toBeGreaterThan(0);
      expect(p.distanceM).toBeLessThanOrEqual(5);
      expect(p.rssiDbm).toBeLessThan(-20);
    }
  });

  it("index share: a seeded subset, and only their keys are published", () => {
    expect(pickIndexCases(10, 0.3, 5)).toEqual(pickIndexCases(10, 0.3, 5));
    expect(pickIndexCases(10, 0.3, 5)).toHaveLength(3);
    expect(pickIndexCases(10, 0, 5)).toEqual([]);
    expect(() => pickIndexCases(10, 1.5, 5)).toThrow(/index share/);
    const some = simulateRun(builtInScenario("classroom"), { ...small, indexShare: 0.3 });
    expect(some.indexCases).toHaveLength(3);
    const keys = some.indexCases.flatMap((i) => some.truth.agents[i].keys.map((k) => toHex(k.key)));
    expect(some.published.gaen.map((k) => toHex(k.keyData)).sort()).toEqual(keys.sort());
    for (const d of detectContacts(some)) expect(some.indexCases).toContain(d.index);
  });
});

describe("detectContacts", () => {
  it("each receiver's matching finds the index cases it heard, and every detector decides", () => {
    const run = simulateRun(builtInScenario("classroom"), small);
    const detections = detectContacts(run);
    expect(new Set(detections.map((d) => d.detector))).toEqual(new Set(PRESET_NAMES));
    const sender = senderOfId(run.truth.agents);
    for (const d of detections.filter((x) => x.detector === "proxkit")) {
      expect(d.index).not.toBe(d.receiver);
      // The receiver really heard that index case.
      const heard = run.sightings[d.receiver].some((s) => sender.get(toHex(s.id)) === d.index);
      expect(heard).toBe(true);
      expect(d.estimatedMinutes).toBeGreaterThanOrEqual(0);
      // Ours notifies on the close minutes it estimates (its score ranks, weighted minutes).
      expect(d.notified).toBe(d.estimatedMinutes >= 15);
    }
  });

  it("skipping the keys a phone heard nothing of changes no decision", () => {
    for (const protocol of ["gaen", "bluezone"] as const) {
      const run = simulateRun(builtInScenario("classroom"), {
        ...small,
        protocol,
        indexShare: 0.6,
      });
      expect(detectContacts(run)).toEqual(detectContacts(run, { prefilter: false }));
    }
  });

  for (const protocol of ["dp3t", "bluezone"] as const) {
    it(`${protocol}: published day keys are matched by the chained-key matcher`, () => {
      const run = simulateRun(builtInScenario("classroom"), { ...small, protocol });
      expect(run.meta.protocol).toBe(protocol);
      expect(run.published.gaen).toEqual([]);
      expect(run.published.dayKeys.length).toBeGreaterThanOrEqual(10);
      const detections = detectContacts(run, { presets: defaultDetectors(["proxkit"]) });
      expect(detections.length).toBeGreaterThan(10);
    });
  }
});

/** Writes a run's files (data, detections and summary) as JSON lines to a new temporary folder. */
function writeRunFolder(result: ReturnType<typeof runPipeline>): string {
  const dir = mkdtempSync(join(tmpdir(), "proxkit-run-"));
  writeRunFiles(
    dir,
    result.data,
    result.detections,
    runSummary(result.data, result.evaluation, result.data.rssiVsDistance),
    "jsonl",
  );
  return dir;
}

describe("the run folder", () => {
  it("round-trips: re-running detection from the files gives the same detections and evaluation", async () => {
    const result = runPipeline(builtInScenario("classroom"), small);
    const dir = writeRunFolder(result);
    const read = await readRunFiles(dir);
    expect(read.meta).toEqual(result.data.meta);
    expect(read.indexCases).toEqual(result.data.indexCases);
    expect(read.sightings.map((l) => l.length)).toEqual(result.data.sightings.map((l) => l.length));
    const again = await rerunFolder(dir);
    expect(again.detections).toEqual(result.detections);
    expect(again.evaluation).toEqual(result.evaluation);
    const first = JSON.parse(readFileSync(join(dir, "sightings.jsonl"), "utf8").split("\n")[0]);
    expect(Object.keys(first)).toEqual([
      "receiver",
      "at_ms",
      "protocol",
      "id",
      "aem",
      "rssi",
      "tx_power",
      "channel",
    ]);
  });

  it("is deterministic: the same seed writes byte-identical files", () => {
    const files = (seed: number) => {
      const dir = writeRunFolder(runPipeline(builtInScenario("classroom"), { ...small, seed }));
      return [
        "sightings.jsonl",
        "keys.jsonl",
        "truth.jsonl",
        "detections.jsonl",
        "windows.jsonl",
        "truth_pairs.jsonl",
        "truth_intervals.jsonl",
        "summary.json",
      ].map((f) => readFileSync(join(dir, f), "utf8"));
    };
    const a = files(9);
    expect(files(9)).toEqual(a);
    expect(files(10)[0]).not.toEqual(a[0]);
  });

  it("the Parquet writer thread writes the same run folder as encoding in the run's thread", () => {
    const folder = (writerThread: boolean) => {
      const dir = join(mkdtempSync(join(tmpdir(), "proxkit-writer-thread-")), "run");
      streamPipeline(builtInScenario("classroom"), { ...small, out: { dir, writerThread } });
      return readdirSync(dir)
        .sort()
        .map((f) => [f, readFileSync(join(dir, f))] as const);
    };
    const here = folder(false);
    const threaded = folder(true);
    expect(threaded.map(([f]) => f)).toEqual(here.map(([f]) => f));
    expect(here.some(([f]) => f.endsWith(".parquet"))).toBe(true);
    for (let k = 0; k < here.length; k++)
      expect(threaded[k][1].equals(here[k][1]), here[k][0]).toBe(true);
  });

  it("gives a run its threads only when it is big and a CPU is left for them", () => {
    const plaza = {
      agentHours: 10_000,
      cpus: 2,
      workers: 0,
      writerThread: undefined,
      canThread: true,
    };
    expect(runThreads({ ...plaza, thread: "auto" })).toEqual({
      threaded: true,
      writerThread: false,
    });
    expect(runThreads({ ...plaza, thread: false })).toEqual({
      threaded: false,
      writerThread: true,
    });
    expect(runThreads({ ...plaza, thread: "auto", cpus: 4 })).toEqual({
      threaded: true,
      writerThread: true,
    });
    expect(runThreads({ ...plaza, thread: "auto", cpus: 1 })).toEqual({
      threaded: false,
      writerThread: false,
    });
    // The city's shard workers take both CPUs; the ceiling pass or taps keep one thread.
    expect(runThreads({ ...plaza, thread: "auto", workers: 2 })).toEqual({
      threaded: false,
      writerThread: false,
    });
    expect(runThreads({ ...plaza, thread: "auto", canThread: false })).toEqual({
      threaded: false,
      writerThread: true,
    });
    // Small runs: none, unless asked for.
    const small = { ...plaza, agentHours: BIG_RUN_AGENT_HOURS - 1 };
    expect(runThreads({ ...small, thread: "auto" })).toEqual({
      threaded: false,
      writerThread: false,
    });
    expect(runThreads({ ...small, thread: true, writerThread: true })).toEqual({
      threaded: true,
      writerThread: true,
    });
  });

  it("matches big crowds in shorter chunks, in whole minutes", () => {
    expect(matchChunkMsFor(500)).toBe(600_000);
    expect(matchChunkMsFor(10_000)).toBe(600_000);
    expect(matchChunkMsFor(20_000)).toBe(300_000);
    expect(matchChunkMsFor(30_000)).toBe(180_000);
    expect(matchChunkMsFor(100_000)).toBe(60_000);
    expect(matchChunkMsFor(1_000_000)).toBe(60_000);
  });

  it("gives a big city the pipeline thread and one shard worker fewer", () => {
    // [cpus, agent-hours, ceiling] → [shard workers, pipeline thread]
    const cases: [number, number, boolean, number, boolean][] = [
      [2, 100_000, false, 1, true],
      [8, 100_000, false, 4, true],
      [1, 100_000, false, 1, false],
      [2, 500, false, 2, false],
      [2, 100_000, true, 2, false],
    ];
    for (const [cpus, agentHours, ceiling, workers, thread] of cases)
      expect(cityThreads({ cpus, agentHours, ceiling })).toEqual({ workers, thread });
  });
});
