/**
 * A sweep on this machine: the runs of the grid (or of one shard of it) that are not finished
 * yet, on `workers` child processes (or in this process when `workers` is 1), each into
 * `OUT/runs/<id>/`. Finished runs are skipped, so an interrupted sweep resumes where it stopped.
 */
import { join } from "node:path";
import type { SweepEntry } from "./grid.js";
import type { SweepResultRow } from "./result-rows.js";
import { finishedRows, runEntry } from "./run-entry.js";
import { RunPool } from "./run-pool.js";

/** Run folders live under `OUT/runs/`, one per run id. */
export function runDir(out: string, entry: SweepEntry): string {
  return join(out, "runs", entry.id);
}

export interface LocalSweepOptions {
  /** Runs at a time; 1 runs them one after another in this process. */
  readonly workers: number;
  /** Also write each run's report.html. */
  readonly runReports?: boolean;
  /** Before the first run: how many runs there are to do (the finished ones left out). */
  readonly onStart?: (total: number) => void;
  /** After each run finished here: how many of the runs to do are done. */
  readonly onRun?: (done: number, total: number, entry: SweepEntry) => void;
}

export interface LocalSweepResult {
  /** Runs done by this sweep, and runs found finished before it. */
  readonly ran: number;
  readonly skipped: number;
}

export async function runLocalSweep(
  entries: readonly SweepEntry[],
  out: string,
  options: LocalSweepOptions,
): Promise<LocalSweepResult> {
  const todo = entries.filter((e) => finishedRows(runDir(out, e), e) === undefined);
  const total = todo.length;
  let done = 0;
  options.onStart?.(total);
  const finished = (entry: SweepEntry) => {
    done++;
    options.onRun?.(done, total, entry);
  };
  const runOptions = { report: options.runReports ?? false };
  if (options.workers <= 1 || total <= 1) {
    for (const entry of todo) {
      await runEntry(entry, runDir(out, entry), runOptions);
      finished(entry);
    }
  } else {
    const pool = new RunPool(Math.min(options.workers, total));
    try {
      let failure: unknown;
      await Promise.all(
        todo.map(async (entry) => {
          if (failure !== undefined) return;
          try {
            await pool.run(entry, runDir(out, entry), runOptions);
            finished(entry);
          } catch (error) {
            // The first failure ends the sweep; the runs already finished stay for the next one.
            failure ??= error;
            pool.close();
          }
        }),
      );
      if (failure !== undefined) throw failure;
    } finally {
      pool.close();
    }
  }
  return { ran: total, skipped: entries.length - total };
}

/** Every entry's rows from its finished run folder, in canonical order; the unfinished apart. */
export function collectRows(
  entries: readonly SweepEntry[],
  out: string,
): { rows: SweepResultRow[]; missing: SweepEntry[] } {
  const rows: SweepResultRow[] = [];
  const missing: SweepEntry[] = [];
  for (const entry of entries) {
    const found = finishedRows(runDir(out, entry), entry);
    if (found === undefined) missing.push(entry);
    else rows.push(...found);
  }
  return { rows, missing };
}
