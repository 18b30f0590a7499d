/**
 * `proxkit simulate` as a user runs it: the built CLI in a child process, the whole command
 * (world, link layer, matching, scoring, evaluation, the run's files and its report), its wall
 * time and peak resident memory (`rss-probe.ts`), agent-hours per second and the bytes written.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { probedPeaksMb } from "./rss-probe-mark.js";
import type { Workload } from "./workloads.js";

interface SimulateFigures {
  agents: number;
  sim_seconds: number;
  wall_s: number;
  peak_rss_mb: number | null;
  agent_hours_per_s: number;
  sightings: number;
  output_mb: number;
  output_format: string;
}

/** Bytes of every file in `dir`. */
function folderBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

/** Runs `proxkit simulate ARGS --out TMP -f json` in a child process and measures it. */
export function simulateCommand(
  scenario: string,
  agents: number,
  durationS: number,
  extra: readonly string[] = [],
): SimulateFigures {
  const here = dirname(fileURLToPath(import.meta.url));
  const cli = join(here, "..", "..", "src", "cli", "main.js");
  const probe = join(here, "rss-probe.js");
  const out = mkdtempSync(join(tmpdir(), "proxkit-bench-sim-"));
  try {
    const args = [
      "--import",
      probe,
      cli,
      "simulate",
      "-s",
      scenario,
      "-n",
      String(agents),
      "-d",
      String(durationS),
      "--out",
      join(out, "run"),
      "-f",
      "json",
      ...extra,
    ];
    const started = performance.now();
    const child = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
    const seconds = (performance.now() - started) / 1000;
    if (child.status !== 0)
      throw new Error(`simulate ${args.slice(4).join(" ")} failed: ${child.stderr.trim()}`);
    const [peak] = probedPeaksMb(child.stderr);
    const summary = JSON.parse(readFileSync(join(out, "run", "summary.json"), "utf8")) as {
      sightings: number;
    };
    const hours = (agents * durationS) / 3600;
    return {
      agents,
      sim_seconds: durationS,
      wall_s: Math.round(seconds * 10) / 10,
      peak_rss_mb: peak ?? null,
      agent_hours_per_s: Math.round((hours / seconds) * 10) / 10,
      sightings: summary.sightings,
      output_mb: Math.round(folderBytes(join(out, "run")) / 1e4) / 100,
      output_format: extra.includes("jsonl") ? "jsonl" : "parquet",
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/**
 * A workload of whole `simulate` commands: `runs` (full) or `quickRuns` (--quick), each
 * [agents, simulated seconds], smallest first; ops are agent-hours.
 */
function pipelineBench(
  name: string,
  describe: string,
  scenario: string,
  runs: readonly [number, number][],
  quickRuns: readonly [number, number][],
  options: { jsonlToo?: boolean } = {},
): Workload {
  return {
    name,
    describe,
    unit: "agent-hour",
    once(quick) {
      const rows: SimulateFigures[] = [];
      let agentHours = 0;
      let seconds = 0;
      for (const [agents, durationS] of quick ? quickRuns : runs) {
        const row = simulateCommand(scenario, agents, durationS);
        rows.push(row);
        agentHours += (agents * durationS) / 3600;
        seconds += row.wall_s;
      }
      // The same smallest run as JSON lines: how much smaller the Parquet tables are.
      const [agents, durationS] = (quick ? quickRuns : runs)[0];
      const jsonl = options.jsonlToo
        ? simulateCommand(scenario, agents, durationS, ["--output-format", "jsonl"])
        : undefined;
      return {
        ops: agentHours,
        seconds,
        extra: {
          runs: rows,
          ...(jsonl === undefined
            ? {}
            : {
                jsonl_same_run: jsonl,
                parquet_vs_jsonl_bytes:
                  Math.round((rows[0].output_mb / jsonl.output_mb) * 1000) / 1000,
              }),
        },
      };
    },
  };
}

export const PIPELINE_WORKLOADS: readonly Workload[] = [
  pipelineBench(
    "sim.pipeline.plaza10k",
    "proxkit simulate -s plaza -n 10000 -d 1h, the whole command in a child process (matching, scoring, evaluation, Parquet files, report): target <= 90 s and <= 1.5 GB peak RSS; also the same run's bytes as JSON lines (target: Parquet <= 1/5) (--quick: 1,000 agents, 10 min)",
    "plaza",
    [[10_000, 3600]],
    [[1_000, 600]],
    { jsonlToo: true },
  ),
  pipelineBench(
    "sim.pipeline.plaza.duration",
    "proxkit simulate -s plaza -n 1000 for 1 h and for 24 h: peak RSS of the longer run against the shorter (target: within 10 %) (--quick: 10 min and 1 h)",
    "plaza",
    [
      [1_000, 3600],
      [1_000, 86_400],
    ],
    [
      [1_000, 600],
      [1_000, 3600],
    ],
  ),
  pipelineBench(
    "sim.pipeline.city100k",
    "proxkit simulate -s city for 1 h at 10,000, 30,000 and 100,000 agents, the whole command in a child process: target <= 10 min and <= 4 GB at 100,000; agent-hours/s shows the scaling (--quick: 2,000 agents, 10 min)",
    "city",
    [
      [10_000, 3600],
      [30_000, 3600],
      [100_000, 3600],
    ],
    [[2_000, 600]],
  ),
];
