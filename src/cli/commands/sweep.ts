import { availableParallelism } from "node:os";
import { basename, extname, join, resolve } from "node:path";
import cliProgress from "cli-progress";
import type { Argv, CommandModule } from "yargs";
import { describeEntry, readGrid, type SweepEntry, shardEntries } from "../../../sim/sweep/grid.js";
import { collectRows, runLocalSweep } from "../../../sim/sweep/local-sweep.js";
import { parseQueueUrl } from "../../../sim/sweep/queue-url.js";
import type { SweepResultRow } from "../../../sim/sweep/result-rows.js";
import { writeSweepOutputs } from "../../../sim/sweep/sweep-results.js";
import { ConfigError, ProxkitError } from "../../core/errors.js";
import { prepareOutputFolder } from "../../io/output-folder.js";
import { parseInteger } from "../parse.js";

interface SweepArgs {
  grid?: string;
  out?: string;
  workers?: string;
  shard?: string;
  collect?: boolean;
  queue?: string;
  attempts?: string;
  "run-reports"?: boolean;
}

/** "I/N" with 0 <= I < N: the shard's index and the shard count. */
export function parseShard(text: string): { index: number; count: number } {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match)
    throw new ConfigError(
      `--shard must be I/N (this shard's index from 0, and the number of shards), got ${JSON.stringify(text)}`,
      "E_USAGE",
    );
  const [index, count] = [Number(match[1]), Number(match[2])];
  if (count < 1 || index >= count)
    throw new ConfigError(
      `--shard ${text}: the index must be 0..${Math.max(0, count - 1)} (with a Slurm array --array=0-${Math.max(0, count - 1)})`,
      "E_USAGE",
    );
  return { index, count };
}

/** A bar with the runs done and the time left, on stderr when it is a terminal; else nothing. */
function runsBar(label: string) {
  if (!process.stderr.isTTY)
    return { update: (_done: number, _total: number) => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label}: [{bar}] {value}/{total} runs | {eta_formatted} left`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (done: number, total: number) => {
      if (total === 0) return;
      if (!started) bar.start(total, done);
      else bar.update(done);
      started = true;
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

const seconds = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

async function writeOutputs(
  out: string,
  grid: string,
  rows: SweepResultRow[],
  swept: readonly string[],
  runs: number,
) {
  const paths = await writeSweepOutputs(out, rows, {
    title: `proxkit sweep: ${basename(grid)}`,
    swept,
    runs,
  });
  process.stdout.write(`results: ${paths.table}\nreport: ${paths.report}\n`);
}

function missingError(missing: readonly SweepEntry[], total: number): ProxkitError {
  const shown = missing.slice(0, 5).map((e) => `  ${e.id} (${describeEntry(e)})`);
  return new ProxkitError(
    "E_SWEEP_MISSING",
    `${missing.length} of ${total} runs are not finished yet:\n${shown.join("\n")}${missing.length > 5 ? "\n  ..." : ""}\nrun the sweep (or its unfinished shards) again; finished runs are not redone`,
    { isInputError: false },
  );
}

export const sweepCommand: CommandModule<object, SweepArgs> = {
  command: "sweep",
  describe:
    "Run every combination of a grid of simulation parameters (on this machine, across machines on a Redis queue, or as Slurm shards) into one results table and report",
  builder: (yargs: Argv) =>
    yargs
      .option("grid", {
        alias: "g",
        type: "string",
        describe:
          'Grid file: JSON with a value or list of values per parameter, e.g. {"scenario": ["classroom", "tram"], "agents": [20, 40], "seeds": "1-5", "channel": ["v2", "herald-only"]} (docs/sweeps.md)',
      })
      .option("out", {
        alias: "o",
        type: "string",
        describe:
          "Folder for runs/<run id>/, results.parquet and report.html [default: runs/sweep-GRIDNAME]",
      })
      .option("workers", {
        alias: "w",
        type: "string",
        describe: `Runs at a time on this machine, each in its own process [default: ${availableParallelism()}, the CPUs]`,
      })
      .option("shard", {
        type: "string",
        describe:
          "Run only shard I of N (runs whose index is I modulo N), for Slurm job arrays: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT; then --collect",
      })
      .option("collect", {
        type: "boolean",
        describe:
          "Run nothing: build results.parquet and report.html from the finished run folders",
      })
      .option("queue", {
        alias: "q",
        type: "string",
        describe:
          "Redis URL (redis://HOST:PORT): enqueue the runs for proxkit worker processes on any machine, wait for them, write the table",
      })
      .option("attempts", {
        type: "string",
        describe: "--queue: attempts per run that fails [default: 3]",
      })
      .option("run-reports", {
        type: "boolean",
        describe: "Also write each run's own report.html (about a second more per run)",
      })
      .example(
        "$0 sweep --grid grid.json",
        "Every run of the grid on every CPU, into runs/sweep-grid",
      )
      .example(
        "$0 sweep -g grid.json -o runs/s1 --workers 3",
        "Three at a time; run it again after an interruption and it picks up where it stopped",
      )
      .example(
        "$0 sweep -g grid.json -o /shared/s1 --queue redis://10.0.0.5:6379",
        "Enqueue the runs; proxkit worker --queue redis://10.0.0.5:6379 on each machine runs them",
      )
      .example(
        "$0 sweep -g grid.json -o /shared/s1 --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT",
        "One task of a Slurm job array (sbatch --array=0-15)",
      )
      .example(
        "$0 sweep -g grid.json -o /shared/s1 --collect",
        "After the last shard: the table and report",
      )
      .epilogue(
        "Each run is deterministic from its parameters and has an id hashed from them; its folder OUT/runs/<id>/ holds what proxkit simulate --out writes plus result.json (its rows), and appears only when the run is finished, so an interrupted sweep redoes only unfinished runs. results.parquet has one row per run and rule (each detector, and the reference rows heard, ceiling and ceiling-scans): the run's parameters, precision, recall, F1, tp, fp, fn, duration error, detection, continuity; rows in the grid's order, so two sweeps of one grid compare row for row. report.html charts each rule's F1 against each swept parameter with 95 % intervals over seeds. See docs/sweeps.md.",
      ) as unknown as Argv<SweepArgs>,
  handler: async (args) => {
    if (args.grid === undefined)
      throw new ConfigError("--grid is needed (a grid JSON file)", "E_USAGE");
    const modes = (["shard", "collect", "queue"] as const).filter(
      (m) => args[m] !== undefined && args[m] !== false,
    );
    if (modes.length > 1)
      throw new ConfigError(`--${modes[0]} and --${modes[1]} do not go together`, "E_USAGE");
    if (args.workers !== undefined && (args.queue !== undefined || args.collect))
      throw new ConfigError(
        `--workers is for runs on this machine; with --${args.queue !== undefined ? "queue, give proxkit worker --concurrency" : "collect nothing runs"}`,
        "E_USAGE",
      );
    if (args.attempts !== undefined && args.queue === undefined)
      throw new ConfigError("--attempts goes with --queue", "E_USAGE");
    const workers =
      args.workers === undefined
        ? availableParallelism()
        : parseInteger(args.workers, "--workers", 1, 256);
    const shard = args.shard === undefined ? undefined : parseShard(args.shard);
    const url = args.queue === undefined ? undefined : parseQueueUrl(args.queue);
    const attempts =
      args.attempts === undefined ? 3 : parseInteger(args.attempts, "--attempts", 1, 100);
    const grid = readGrid(args.grid);
    const out = resolve(
      args.out ?? join("runs", `sweep-${basename(args.grid, extname(args.grid))}`),
    );
    prepareOutputFolder(out, "--out");
    const all = grid.entries;
    const t0 = performance.now();

    if (args.collect) {
      const { rows, missing } = collectRows(all, out);
      if (missing.length > 0) throw missingError(missing, all.length);
      await writeOutputs(out, args.grid, rows, grid.swept, all.length);
      return;
    }

    if (url !== undefined) {
      const bar = runsBar("sweep");
      const aborter = new AbortController();
      const stop = () => aborter.abort();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      let rows: SweepResultRow[];
      try {
        // Loaded only here: BullMQ and ioredis cost every other command nothing.
        const { submitSweep } = await import("../../../sim/sweep/queue-sweep.js");
        rows = await submitSweep(all, {
          url,
          out,
          runReports: args["run-reports"] ?? false,
          attempts,
          onProgress: (done, total) => bar.update(done, total),
          signal: aborter.signal,
        });
      } catch (error) {
        if (aborter.signal.aborted) {
          bar.stop();
          process.stderr.write(
            "sweep: stopped waiting; the runs stay queued for the workers (submit the same grid again to wait for them)\n",
          );
          process.exitCode = 130;
          return;
        }
        throw error;
      } finally {
        bar.stop();
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      }
      process.stderr.write(
        `sweep: ${all.length} runs through ${url.host} in ${seconds(t0)} -> ${out}\n`,
      );
      await writeOutputs(out, args.grid, rows, grid.swept, all.length);
      return;
    }

    const entries = shard === undefined ? all : shardEntries(all, shard.index, shard.count);
    const bar = runsBar(shard === undefined ? "sweep" : `shard ${shard.index}/${shard.count}`);
    let result: Awaited<ReturnType<typeof runLocalSweep>>;
    try {
      result = await runLocalSweep(entries, out, {
        workers,
        runReports: args["run-reports"] ?? false,
        onStart: (total) => bar.update(0, total),
        onRun: (done, total) => bar.update(done, total),
      });
    } finally {
      bar.stop();
    }
    const what = shard === undefined ? "sweep" : `shard ${shard.index}/${shard.count}`;
    const used = Math.min(workers, Math.max(1, result.ran));
    process.stderr.write(
      `${what}: ${entries.length} runs (${result.skipped} already finished), ${result.ran} run on ${used} worker${used === 1 ? "" : "s"} in ${seconds(t0)} -> ${out}\n`,
    );
    if (shard !== undefined) {
      process.stderr.write(
        `${what}: when every shard is done: proxkit sweep --grid ${args.grid} --out ${out} --collect\n`,
      );
      return;
    }
    const { rows, missing } = collectRows(all, out);
    if (missing.length > 0) throw missingError(missing, all.length);
    await writeOutputs(out, args.grid, rows, grid.swept, all.length);
  },
};
