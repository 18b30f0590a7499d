/**
 * One run of a sweep, start to finish: the pipeline on the run's parameters, its folder written
 * like `proxkit simulate --out` writes one, and its result rows. The only module of the sweep
 * that calls the pipeline, so a change of pipeline is a change here.
 *
 * A run folder appears whole or not at all: everything is written into a `.partial-HOST-PID`
 * folder beside it, `result.json` (the rows) last, then the folder is renamed into place. A
 * sweep killed mid-run leaves only a partial folder, which the next attempt at that run removes;
 * a folder with a readable `result.json` of the same id and schema is a finished run.
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { writeFileAtomic } from "../../src/io/atomic-write.js";
import { reportChannel } from "../evaluation/report-run.js";
import { RUN_FILES } from "../pipeline/run-files.js";
import {
  pipelineReportRun,
  type StreamedPipeline,
  streamPipeline,
} from "../pipeline/run-pipeline.js";
import { withChannel } from "../pipeline/simulate-run.js";
import { writeReport } from "../report/render-report.js";
import { DEFAULT_CHANNEL, resolveChannelProfile } from "../world/channel-propagation.js";
import { builtInScenario, type ProtocolName } from "../world/scenario.js";
import { MIXED_PROTOCOL, SWEEP_SCHEMA_VERSION, type SweepEntry } from "./grid.js";
import { finiteOrNull, type SweepResultRow } from "./result-rows.js";

/** Beside the pipeline's files in each run folder: the run's rows, written last. */
export const RESULT_FILE = "result.json";

export interface RunEntryOptions {
  /** Also write the run's own report.html (as `simulate` does; about a second per small run). */
  readonly report?: boolean;
}

interface ResultFile {
  readonly schema: number;
  readonly id: string;
  readonly rows: SweepResultRow[];
}

/** The rows of a finished run in `dir`, or undefined when it is not finished (or not this run). */
export function finishedRows(dir: string, entry: SweepEntry): SweepResultRow[] | undefined {
  let file: ResultFile;
  try {
    file = JSON.parse(readFileSync(join(dir, RESULT_FILE), "utf8"));
  } catch {
    return undefined;
  }
  if (file?.schema !== SWEEP_SCHEMA_VERSION || file.id !== entry.id || !Array.isArray(file.rows))
    return undefined;
  if (!existsSync(join(dir, RUN_FILES.summary))) return undefined;
  // The index is the run's place in this grid, which another grid may order differently (and
  // may name the same preset set otherwise).
  return file.rows.map((row) => ({
    ...row,
    runIndex: entry.index,
    presetSet: entry.params.presetSet,
  }));
}

/** Partial folders of this run left by processes on this host that are gone. */
function removeDeadPartials(dir: string): void {
  const parent = dirname(dir);
  const prefix = `${basename(dir)}.partial-${hostname()}-`;
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The run's result rows: one per detector, then one per reference row. */
export function resultRows(entry: SweepEntry, result: StreamedPipeline): SweepResultRow[] {
  const { evaluation } = result;
  const meta = result.run.meta;
  const run = {
    runIndex: entry.index,
    runId: entry.id,
    scenario: meta.scenario,
    protocol: meta.protocol,
    agents: meta.agents,
    durationS: meta.durationS,
    seed: meta.seed,
    channel: meta.channel ?? "herald-only",
    presetSet: entry.params.presetSet,
    indexShare: meta.indexShare,
    closeDistanceM: meta.closeDistanceM,
    closeMinutes: meta.closeMinutes,
  };
  const counts = { pairs: evaluation.pairs, closeContacts: evaluation.closeContacts };
  return [
    ...evaluation.detectors.map(
      (d): SweepResultRow => ({
        ...run,
        rule: d.name,
        kind: "detector",
        precision: d.precision,
        recall: d.recall,
        f1: d.f1,
        truePositives: d.truePositives,
        falsePositives: d.falsePositives,
        falseNegatives: d.falseNegatives,
        durationErrorMin: finiteOrNull(d.durationErrorMin),
        detection: finiteOrNull(d.detection),
        continuity: finiteOrNull(d.continuity),
        thresholdDbm: null,
        ...counts,
      }),
    ),
    ...evaluation.references.map(
      (r): SweepResultRow => ({
        ...run,
        rule: r.name,
        kind: "reference",
        precision: r.precision,
        recall: r.recall,
        f1: r.f1,
        truePositives: r.truePositives,
        falsePositives: r.falsePositives,
        falseNegatives: r.falseNegatives,
        durationErrorMin: null,
        detection: null,
        continuity: null,
        thresholdDbm: finiteOrNull(r.thresholdDbm),
        ...counts,
      }),
    ),
  ];
}

/**
 * Runs `entry` into the folder `dir` and returns its rows; a run already finished there is not
 * run again. Synchronous CPU work but for the optional report: call it off any event loop that
 * has timers to keep (the queue worker runs it in a child process).
 */
export async function runEntry(
  entry: SweepEntry,
  dir: string,
  options: RunEntryOptions = {},
): Promise<SweepResultRow[]> {
  const done = finishedRows(dir, entry);
  if (done !== undefined) return done;
  removeDeadPartials(dir);
  const partial = `${dir}.partial-${hostname()}-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  const p = entry.params;
  const scenario = withChannel(builtInScenario(p.scenario), p.channel ?? undefined);
  // Streamed into the partial folder as the run goes (the run's own `.partial` beside it).
  const result = streamPipeline(scenario, {
    seed: p.seed,
    agents: p.agents ?? undefined,
    durationS: p.durationS ?? undefined,
    protocol: p.protocol === MIXED_PROTOCOL ? undefined : (p.protocol as ProtocolName),
    indexShare: p.indexShare ?? undefined,
    closeDistanceM: p.closeDistanceM ?? undefined,
    closeMinutes: p.closeMinutes ?? undefined,
    presets: p.presets,
    ceiling: p.ceiling ?? undefined,
    out: { dir: partial },
  });
  if (options.report) {
    const profile = resolveChannelProfile(scenario.channel ?? DEFAULT_CHANNEL);
    await writeReport(join(partial, RUN_FILES.report), {
      title: `proxkit sweep: ${p.scenario}, seed ${p.seed} (run ${entry.id})`,
      generatedAt: new Date().toISOString(),
      runs: [pipelineReportRun(result, { channel: reportChannel(profile) })],
    });
  }
  result.accumulation?.close();
  const rows = resultRows(entry, result);
  const file: ResultFile = { schema: SWEEP_SCHEMA_VERSION, id: entry.id, rows };
  writeFileAtomic(join(partial, RESULT_FILE), `${JSON.stringify(file)}\n`, { what: "run result" });
  try {
    renameSync(partial, dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
    // Another process finished the same run first (a retried job whose first worker lived on):
    // runs are deterministic, so its folder is as good as ours. A folder there without a result
    // is an unfinished run of an older sweep: ours replaces it.
    if (finishedRows(dir, entry) === undefined) {
      rmSync(dir, { recursive: true, force: true });
      renameSync(partial, dir);
    } else rmSync(partial, { recursive: true, force: true });
  }
  return rows;
}
