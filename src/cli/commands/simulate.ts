import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, join, resolve } from "node:path";
import cliProgress from "cli-progress";
import type { Argv, CommandModule } from "yargs";
import { CEILING_MAX_AGENTS } from "../../../sim/evaluation/ceiling.js";
import type { RunEvaluation } from "../../../sim/evaluation/evaluate-run.js";
import { reportChannel } from "../../../sim/evaluation/report-run.js";
import { realF1OfReplay } from "../../../research/sim-to-real.js";
import { RUN_FILES } from "../../../sim/pipeline/run-files.js";
import { withChannel } from "../../../sim/pipeline/simulate-run.js";
import { OUTPUT_FORMATS, type OutputFormat } from "../../../sim/io/table-writer.js";
import {
  ceilingSkipped,
  cityThreads,
  type PipelineOptions,
  pipelineReportRun,
  type StreamedPipeline,
  streamPipeline,
} from "../../../sim/pipeline/run-pipeline.js";
import {
  loadMeasuredRssiVsDistance,
  type MeasuredRssiVsDistance,
} from "../../../sim/report/measured-rssi-vs-distance.js";
import { writeReport } from "../../../sim/report/render-report.js";
import type { ReportRun } from "../../../sim/report/report-input.js";
import { CHANNEL_PROFILES } from "../../../sim/world/channel-profiles.js";
import { DEFAULT_CHANNEL, resolveChannelProfile } from "../../../sim/world/channel-propagation.js";
import { hasVenues } from "../../../sim/world/world.js";
import {
  BUILT_IN_SCENARIOS,
  builtInScenario,
  loadScenario,
  PROTOCOL_NAMES,
  type ProtocolName,
  type Scenario,
} from "../../../sim/world/scenario.js";
import { ConfigError } from "../../core/errors.js";
import { PRESET_NAMES, presetFor } from "../../exposure/risk-preset.js";
import { defaultCacheDir, defaultDataRoot } from "../../io/data-root.js";
import { prepareOutputFolder } from "../../io/output-folder.js";
import { writeJson, writeRows } from "../output.js";
import { parseInteger } from "../parse.js";

interface SimulateArgs {
  scenario?: string;
  agents?: string;
  duration?: string;
  seed?: string;
  protocol?: string;
  out?: string;
  "index-share"?: number;
  "close-distance"?: number;
  "close-minutes"?: number;
  preset?: string[];
  format?: string;
  "default-job"?: boolean;
  ceiling?: boolean;
  channel?: string;
  "output-format"?: string;
  workers?: string;
  thread?: boolean;
}

/** The scenarios of `npm start` (`--default-job`), each with the scenario's own length. */
export const DEFAULT_JOB_SCENARIOS = ["classroom", "tram"] as const;

/** "1h", "90m", "45s", "1h30m" or plain seconds, as seconds. */
export function parseDurationS(text: string, what = "--duration"): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const match = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(trimmed);
  if (!match || trimmed === "")
    throw new ConfigError(
      `${what} must be a duration like 1h, 30m, 90s or 1h30m, got ${JSON.stringify(text)}`,
      "E_DURATION",
    );
  const [, h, m, s] = match;
  return Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0);
}

function scenarioOf(nameOrFile: string): Scenario {
  if (BUILT_IN_SCENARIOS.includes(nameOrFile)) return builtInScenario(nameOrFile);
  if (!existsSync(nameOrFile) && !nameOrFile.trimStart().startsWith("{"))
    throw new ConfigError(
      `--scenario ${nameOrFile} is neither a built-in scenario (${BUILT_IN_SCENARIOS.join(", ")}) nor a file`,
      "E_SCENARIO",
    );
  return loadScenario(nameOrFile);
}

function fraction(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max)
    throw new ConfigError(
      `${what} must be a number in ${min}..${max}, got ${JSON.stringify(value)}`,
      "E_RANGE",
    );
  return value;
}

/** The evaluation table rows (rates to 3 decimals). */
export function evaluationRows(result: { detectors: readonly DetectorRow[] }, scenario?: string) {
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return result.detectors.map((d) => ({
    ...(scenario ? { scenario } : {}),
    detector: d.name,
    precision: r3(d.precision),
    recall: r3(d.recall),
    f1: r3(d.f1),
    duration_error_min: Math.round(d.durationErrorMin * 10) / 10,
    detection: r3(d.detection),
    continuity: r3(d.continuity),
  }));
}

interface DetectorRow {
  name: string;
  precision: number;
  recall: number;
  f1: number;
  durationErrorMin: number;
  detection: number;
  continuity: number;
}

export const EVALUATION_COLUMNS = [
  "detector",
  "precision",
  "recall",
  "f1",
  "duration_error_min",
  "detection",
  "continuity",
];

/**
 * The reference rows as a small table of their own under the detectors' (they are not
 * detectors), with a line saying what they are, and the note when the ceiling is missing.
 */
export function writeReferences(
  result: Pick<RunEvaluation, "references" | "referencesNote">,
): void {
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  process.stdout.write("\nreferences (not detectors):\n");
  writeRows(
    result.references.map((r) => ({
      reference: `(${r.name})`,
      precision: r3(r.precision),
      recall: r3(r.recall),
      f1: r3(r.f1),
      notified: r.truePositives + r.falsePositives,
      threshold_dbm: r.thresholdDbm,
    })),
    "table",
    ["reference", "precision", "recall", "f1", "notified", "threshold_dbm"],
  );
  const lines = [
    "(heard): notify every pair whose receiver matched any of the index case's IDs, ignoring RSSI.",
  ];
  if (result.references.some((r) => r.name === "ceiling"))
    lines.push(
      "(ceiling): notify when the propagation model's exact mean signal was >= threshold_dbm for the",
      "close minutes, threshold chosen in hindsight: an upper bound for threshold rules on smoothed",
      "RSSI over this run's channel, not for every conceivable detector.",
    );
  if (result.references.some((r) => r.name === "ceiling-scans"))
    lines.push(
      "(ceiling-scans): the same, the signal known only at the seconds the receiver scanned (as its",
      "sightings show them), each scan standing for the time since its previous one (at most 5 min):",
      "what the scanning duty cycle leaves a threshold rule.",
    );
  process.stdout.write(`${lines.join("\n")}\n`);
  if (result.referencesNote) process.stdout.write(`${result.referencesNote}\n`);
}

/** A progress bar on stderr when it is a terminal; nothing otherwise. */
export function progressBar(label: string) {
  if (!process.stderr.isTTY) return { update: (_f: number, _stage?: string) => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label}: {stage} [{bar}] {percentage}% | {eta_formatted} left`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(100, 0, { stage: "simulating" });
  return {
    update: (f: number, stage = "simulating") => bar.update(Math.round(f * 100), { stage }),
    stop: () => bar.stop(),
  };
}

/** Runs one scenario streaming into `dir`, with one progress bar through every stage. */
function runOne(
  scenario: Scenario,
  dir: string,
  options: PipelineOptions & { thread?: boolean | "auto" },
  format: OutputFormat,
): StreamedPipeline {
  const bar = progressBar(scenario.name);
  let result: StreamedPipeline;
  try {
    result = streamPipeline(scenario, {
      ...options,
      out: { dir, format },
      onProgress: (f) => bar.update(f, "simulating and matching"),
      onMatchProgress: (f) => bar.update(f, "scoring pairs"),
      onCeilingProgress: (f) => bar.update(f, "ceiling pass"),
    });
  } finally {
    bar.stop();
  }
  const t = result.timings;
  const ceiling = result.run.ceiling;
  const skipped = "skipped" in ceiling ? ceiling.skipped : undefined;
  const ceilingText =
    skipped === undefined ? `, ceiling pass in ${(t.ceilingMs / 1000).toFixed(1)} s` : "";
  process.stderr.write(
    `${scenario.name}: ${result.run.meta.agents} agents, ${result.run.sightingCount} sightings; simulated and matched in ${(t.simulateMs / 1000).toFixed(1)} s, scored in ${(t.detectMs / 1000).toFixed(1)} s${ceilingText}, evaluated and written in ${(t.evaluateMs / 1000).toFixed(1)} s -> ${dir}\n`,
  );
  if (skipped !== undefined)
    process.stderr.write(`${scenario.name}: ceiling not computed: ${skipped}\n`);
  // The truth tables are written: the pairs' rows (files past 4 MB) can go.
  result.accumulation?.close();
  return result;
}

export const simulateCommand: CommandModule<object, SimulateArgs> = {
  command: "simulate",
  describe:
    "Simulate a crowd, run every phone's detection pipeline, and score detectors against the ground truth",
  builder: (yargs: Argv) =>
    yargs
      .option("scenario", {
        alias: "s",
        type: "string",
        describe: `Built-in scenario (${BUILT_IN_SCENARIOS.join(", ")}) or a scenario JSON file`,
      })
      .option("agents", {
        alias: "n",
        type: "string",
        describe: "Agent count (groups scaled in proportion) [default: the scenario's]",
      })
      .option("duration", {
        alias: "d",
        type: "string",
        describe: "Simulated time: 1h, 30m, 90s, 1h30m or seconds [default: the scenario's]",
      })
      .option("seed", { type: "string", describe: "Seed of every random draw [default: 1]" })
      .option("protocol", {
        alias: "p",
        type: "string",
        choices: PROTOCOL_NAMES,
        describe:
          "Every phone runs this protocol and scans on its duty cycle [default: the scenario's mix]",
      })
      .option("out", {
        alias: "o",
        type: "string",
        describe: "Folder for the run's files [default: runs/SCENARIO-sSEED, or runs/default]",
      })
      .option("index-share", {
        type: "number",
        describe:
          "Share of agents who are index cases and publish their keys, 0..1 [default: 1, every ordered pair is scored]",
      })
      .option("close-distance", {
        type: "number",
        describe: "Ground truth: a contact is close within this many metres [default: 2]",
      })
      .option("close-minutes", {
        type: "number",
        describe: "Ground truth: ... for this many cumulative minutes or more [default: 15]",
      })
      .option("preset", {
        type: "string",
        array: true,
        describe: `Only these detectors: ${PRESET_NAMES.join(", ")} [default: all, ours first]`,
      })
      .option("format", {
        alias: "f",
        type: "string",
        choices: ["json", "table"],
        describe: "Evaluation on stdout [default: table on a terminal, json otherwise]",
      })
      .option("ceiling", {
        type: "boolean",
        describe: `Reference rows: also run the ceiling pass, a second world of the same scenario and seed that scores the best threshold on the model's exact mean signal, every second and at the receivers' scans (--no-ceiling skips it) [default: on up to ${CEILING_MAX_AGENTS} agents]`,
      })
      .option("channel", {
        type: "string",
        describe:
          "Channel profile: v2 (fitted across five campaigns, the default), herald-only (the simulator's earlier channel, fitted on the Herald rig alone; the plaza keeps it, docs/channel.md), or a profile JSON file; overrides the scenario's \"channel\" (see docs/channel.md) [default: the scenario's, else v2]",
      })
      .option("workers", {
        type: "string",
        describe:
          "Worker threads of the engine: a city's venues are heard as N shards (the same sightings for any N); other scenarios run in one thread [default: a city: the CPUs, at most 4, less one for the pipeline thread on runs of 1,000 agent-hours or more without the ceiling pass; otherwise 0]",
      })
      .option("thread", {
        type: "boolean",
        describe:
          "Matching, evaluation and the run's files in a thread of their own beside the engine, when the ceiling pass is off: the same files, faster on two cores for some more memory (plaza, 10,000 agents, 1 h: 69-72 s and 1.42-1.44 GB against 78-90 s and 1.23-1.29 GB); --no-thread keeps one thread [default: on for runs of 1,000 agent-hours or more when a CPU is left beside the engine's workers]",
      })
      .option("output-format", {
        type: "string",
        choices: OUTPUT_FORMATS,
        describe:
          "Tables of the run folder (sightings, detections, windows, truth pairs and intervals): parquet (columnar and compressed, about a thirtieth of the bytes; DuckDB, pandas, R and Spark read it) or jsonl (one JSON object per line) [default: parquet]",
      })
      .option("default-job", {
        type: "boolean",
        describe: `The job of npm start: ${DEFAULT_JOB_SCENARIOS.join(" and ")} with their defaults, one report`,
      })
      .example("$0 simulate --scenario classroom", "A 50-minute class, every detector scored")
      .example(
        "$0 simulate -s tram --protocol bluezone --seed 7 --out runs/tram-bz",
        "Bluezone phones and their 40 s scans on the tram",
      )
      .example(
        "$0 simulate -s plaza -n 2000 -d 10m --index-share 0.1",
        "2,000 people for 10 minutes, one in ten publishing keys",
      )
      .example(
        "$0 simulate -s city -n 100000 -d 1h",
        "A city's morning hour: homes, trams, offices, classrooms, a plaza, heard as venue shards",
      )
      .example("$0 simulate --default-job", "What npm start runs: classroom and tram")
      .example(
        "$0 simulate -s plaza -n 2000 -d 10m --ceiling",
        "The ceiling row too, though above the default agent limit (slow in big crowds)",
      )
      .epilogue(
        `Writes into --out, as the run goes (into OUT.partial, moved into OUT when done): the tables sightings (what each phone heard, with its receiver), detections (each detector's decision per ordered pair), windows (each pair's matched exposure windows), truth_pairs and truth_intervals (every pair ever within the close distance), as .parquet or .jsonl (--output-format); keys.jsonl (the index cases' published keys), truth.jsonl (the run and every agent's keys), ceiling.jsonl (the ceiling pass's per-pair scores), summary.json and report.html. Memory stays bounded by the agents in range, not by the run's length: sightings are matched ten simulated minutes at a time and never kept. The evaluation is over ordered (index case, receiver) pairs: precision, recall and F1 of "close contact" (within --close-distance for --close-minutes), the mean absolute error of the minutes each detector counts, and Herald-style detection (share of close pairs heard at all) and continuity (share of 30 s windows while close with a reading). Two reference rows follow, not detectors: (heard) notifies every pair that matched at all (what ignoring RSSI gives); (ceiling) is the best F1 of "mean signal >= threshold for the close minutes" with the propagation model's exact mean signal and the threshold chosen in hindsight, from a second pass over the same scenario and seed (ceiling.jsonl): what the channel allows a threshold rule; (ceiling-scans) is the same rule knowing that signal only at the seconds each receiver scanned (its scans read off its sightings), each scan standing for the time since the receiver's previous scan, at most 5 minutes, as our detector counts time: what the scan duty cycle leaves. For the epfl-* replays of recorded crowds, the table, the JSON (realF1) and report.html add each rule's F1 on the real DP-3T exp05 recording of the same crowd with the same truth (see proxkit evaluate --sim-to-real). proxkit evaluate --run DIR redoes it from the files.`,
      ) as unknown as Argv<SimulateArgs>,
  handler: async (args) => {
    for (const name of [
      "scenario",
      "agents",
      "duration",
      "seed",
      "protocol",
      "out",
      "index-share",
      "close-distance",
      "close-minutes",
      "format",
      "ceiling",
      "channel",
      "output-format",
      "workers",
      "thread",
    ] as const) {
      if (Array.isArray(args[name]))
        throw new ConfigError(`--${name} was given more than once`, "E_USAGE");
    }
    if (!args["default-job"] && args.scenario === undefined)
      throw new ConfigError("--scenario is needed (or --default-job)", "E_USAGE");
    if (args["default-job"] && args.scenario !== undefined)
      throw new ConfigError("--default-job runs its own scenarios; drop --scenario", "E_USAGE");
    const seed = args.seed === undefined ? 1 : parseInteger(args.seed, "--seed", 0, 2 ** 31 - 1);
    const agents =
      args.agents === undefined ? undefined : parseInteger(args.agents, "--agents", 1, 1_000_000);
    const durationS = args.duration === undefined ? undefined : parseDurationS(args.duration);
    if (durationS !== undefined && !(durationS >= 1 && durationS <= 7 * 86_400))
      throw new ConfigError(`--duration must be 1 s to 7 days, got ${durationS} s`, "E_DURATION");
    const presets = args.preset?.flatMap((p) => p.split(","));
    for (const name of presets ?? []) presetFor(name);
    const options = {
      seed,
      agents,
      durationS,
      protocol: args.protocol as ProtocolName | undefined,
      indexShare:
        args["index-share"] === undefined
          ? undefined
          : fraction(args["index-share"], "--index-share", 0, 1),
      closeDistanceM:
        args["close-distance"] === undefined
          ? undefined
          : fraction(args["close-distance"], "--close-distance", 0.1, 5),
      closeMinutes:
        args["close-minutes"] === undefined
          ? undefined
          : fraction(args["close-minutes"], "--close-minutes", 0.1, 10_080),
      presets,
      ceiling: args.ceiling,
    };
    if (args.channel !== undefined) resolveChannelProfile(args.channel);
    const jobs = (
      args["default-job"]
        ? DEFAULT_JOB_SCENARIOS.map((name) => builtInScenario(name))
        : [scenarioOf(args.scenario!)]
    ).map((scenario) => withChannel(scenario, args.channel));
    const workers =
      args.workers === undefined ? undefined : parseInteger(args.workers, "--workers", 0, 64);
    if (workers !== undefined && workers > 0 && !jobs.some(hasVenues))
      throw new ConfigError(
        `--workers ${workers}: only a world of venues (the city) is heard in worker threads; ${jobs[0].name} runs in one thread (leave --workers out, or 0)`,
      );
    const outDir = resolve(
      args.out ??
        (args["default-job"] ? join("runs", "default") : join("runs", `${jobs[0].name}-s${seed}`)),
    );
    // Before any work: a folder that cannot be made or written fails now, in one line.
    prepareOutputFolder(outDir, "--out");
    const outputFormat = (args["output-format"] ?? "parquet") as OutputFormat;
    const results: { result: StreamedPipeline; dir: string }[] = [];
    for (const scenario of jobs) {
      const dir = args["default-job"] ? join(outDir, scenario.name) : outDir;
      const isCity = hasVenues(scenario);
      // A city's shard workers and pipeline thread are chosen together; elsewhere no shard
      // workers, and a pipeline thread for big runs where a CPU is left beside the engine.
      const n = options.agents ?? scenario.agents.reduce((sum, g) => sum + g.count, 0);
      const city =
        isCity && workers === undefined && args.thread === undefined
          ? cityThreads({
              cpus: availableParallelism(),
              agentHours: (n * (options.durationS ?? scenario.durationS)) / 3600,
              ceiling: ceilingSkipped(n, options.ceiling) === undefined,
            })
          : undefined;
      results.push({
        result: runOne(
          scenario,
          dir,
          {
            ...options,
            workers: isCity ? (city?.workers ?? workers ?? Math.min(availableParallelism(), 4)) : 0,
            thread: city?.thread ?? args.thread ?? "auto",
          },
          outputFormat,
        ),
        dir,
      });
    }

    // The measured side of each channel, read once per report (and cached between reports).
    const measuredOf = new Map<string, MeasuredRssiVsDistance>();
    const runs: ReportRun[] = results.map(({ result }, k) => {
      const channel = jobs[k].channel ?? DEFAULT_CHANNEL;
      const profile = resolveChannelProfile(channel);
      let measured = measuredOf.get(channel);
      if (measured === undefined) {
        measured = loadMeasuredRssiVsDistance(profile, {
          dataRoot: defaultDataRoot(),
          cacheDir: defaultCacheDir(),
        });
        measuredOf.set(channel, measured);
      }
      const run = pipelineReportRun(result, {
        channel: reportChannel(profile, {
          ...(Object.hasOwn(CHANNEL_PROFILES, channel) ? {} : { file: basename(channel) }),
          ...(jobs[k].environment === undefined ? {} : { environment: jobs[k].environment }),
        }),
        measured,
      });
      // A replay of a recorded crowd: the same rules' F1 on the real recording, beside.
      const meta = result.run.meta;
      const replay = realF1OfReplay({
        scenario: jobs[k].name,
        detectors: run.detectors.map((d) => d.name),
        closeDistanceM: meta.closeDistanceM,
        closeMinutes: meta.closeMinutes,
        durationS: meta.durationS,
        scenarioDurationS: jobs[k].durationS,
      });
      if (replay === undefined) return run;
      if ("missing" in replay) return { ...run, real: { missing: replay.missing } };
      return {
        ...run,
        real: { source: replay.source },
        detectors: run.detectors.map((d) => ({ ...d, realF1: replay.f1.get(d.name) })),
      };
    });
    const reportPath = join(outDir, RUN_FILES.report);
    await writeReport(reportPath, {
      title:
        jobs.length > 1
          ? `proxkit simulate: ${jobs.map((s) => s.name).join(" and ")}`
          : `proxkit simulate: ${jobs[0].name}`,
      generatedAt: new Date().toISOString(),
      runs,
    });
    if (args["default-job"]) {
      // Each run folder gets its own single-run report too.
      for (const [k, { dir }] of results.entries())
        await writeReport(join(dir, RUN_FILES.report), {
          title: `proxkit simulate: ${jobs[k].name}`,
          generatedAt: new Date().toISOString(),
          runs: [runs[k]],
        });
    }

    const format = args.format ?? (process.stdout.isTTY ? "table" : "json");
    if (format === "json") {
      const detectors = results.flatMap(({ result }, k) =>
        result.evaluation.detectors.map((d) => {
          const realF1 = runs[k].detectors.find((r) => r.name === d.name)?.realF1;
          return {
            ...(jobs.length > 1 ? { scenario: result.run.meta.scenario } : {}),
            ...d,
            ...(realF1 === undefined ? {} : { realF1 }),
          };
        }),
      );
      const references = results.flatMap(({ result }) =>
        result.evaluation.references.map((r) => ({
          ...(jobs.length > 1 ? { scenario: result.run.meta.scenario } : {}),
          ...r,
        })),
      );
      const notes = results
        .filter(({ result }) => result.evaluation.referencesNote !== undefined)
        .map(({ result }) =>
          jobs.length > 1
            ? `${result.run.meta.scenario}: ${result.evaluation.referencesNote}`
            : result.evaluation.referencesNote,
        );
      writeJson({
        detectors,
        references,
        ...(notes.length > 0 ? { referencesNote: notes.join("; ") } : {}),
        report: reportPath,
      });
      return;
    }
    for (const [k, { result }] of results.entries()) {
      const e = result.evaluation;
      process.stdout.write(
        `\n${e.run.scenario}: ${e.run.agents} agents, ${Math.round(e.run.durationS / 60)} min, seed ${e.run.seed}, protocol ${e.run.protocol}; ${e.pairs} ordered pairs, ${e.closeContacts} close contacts (${e.run.closeDistanceM} m, ${e.run.closeMinutes} min)\n`,
      );
      const realOf = new Map(runs[k].detectors.map((d) => [d.name, d.realF1]));
      if (runs[k].real !== undefined && "source" in runs[k].real)
        writeRows(
          evaluationRows(e).map((row) => {
            const f1 = realOf.get(row.detector);
            return { ...row, real_f1: f1 === undefined ? "" : Math.round(f1 * 1000) / 1000 };
          }),
          "table",
          [...EVALUATION_COLUMNS.slice(0, 4), "real_f1", ...EVALUATION_COLUMNS.slice(4)],
        );
      else writeRows(evaluationRows(e), "table", EVALUATION_COLUMNS);
      writeReferences(e);
      const real = runs[k].real;
      if (real !== undefined)
        process.stdout.write(
          "source" in real ? `real_f1: ${real.source}\n` : `real F1 not shown: ${real.missing}\n`,
        );
    }
    process.stdout.write(`\nreport: ${reportPath}\n`);
  },
};
