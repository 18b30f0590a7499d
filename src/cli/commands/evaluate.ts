import { existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import type { Argv, CommandModule } from "yargs";
import {
  evaluateSimToReal,
  SIM_TO_REAL_SEEDS,
  type SimToRealResult,
  simToRealDataPresent,
} from "../../../research/sim-to-real.js";
import { rerunFolder } from "../../../sim/pipeline/run-pipeline.js";
import { writeCampaignReport } from "../../../research/campaign-report.js";
import { DATASET_NAMES, evaluateCampaigns } from "../../../research/evaluate-campaigns.js";
import { ConfigError } from "../../core/errors.js";
import { dublinTramSummary, evaluateDublinTram } from "../../../research/evaluate-dublin-tram.js";
import { PRESET_NAMES, presetFor } from "../../exposure/risk-preset.js";
import { defaultDataRoot } from "../../io/data-root.js";
import { prepareOutputFolder } from "../../io/output-folder.js";
import { evaluateHeraldEdison } from "../../../research/evaluate-herald-edison.js";
import { writeCampaignTables, writeSimToRealTables } from "../campaign-tables.js";
import { writeJson, writeRows } from "../output.js";
import { parseInteger } from "../parse.js";
import { EVALUATION_COLUMNS, evaluationRows, progressBar, writeReferences } from "./simulate.js";

interface EvaluateArgs {
  dataset?: string;
  input?: string[];
  data?: string;
  run?: string;
  preset?: string[];
  format?: string;
  report?: string;
  "close-distance"?: number[];
  "close-minutes"?: number;
  resamples?: number;
  "sim-to-real"?: boolean;
  "sim-seeds"?: number;
}

function evaluateTram(args: EvaluateArgs & { input: string[] }): void {
  if (args.input.length !== 1)
    throw new ConfigError(
      "--dataset dublin-tram takes one --input: the folder with the dublintram_dataset_*.txt files",
      "E_INPUT",
    );
  const dataDir = args.input[0];
  try {
    if (!statSync(dataDir).isDirectory()) throw new Error();
  } catch {
    throw new ConfigError(
      `--input ${dataDir} is not a folder (it should hold dublintram_dataset_*.txt)`,
      "E_INPUT",
    );
  }
  const presets = args.preset?.flatMap((p) => p.split(","));
  for (const name of presets ?? []) presetFor(name);
  const evaluation = evaluateDublinTram({ dataDir, presets });
  const format = args.format ?? (process.stdout.isTTY ? "table" : "json");
  if (presets?.length === 1 && format === "json") {
    writeJson(dublinTramSummary(evaluation.results[0]));
    return;
  }
  const rows = evaluation.results.map((r) => ({
    preset: r.preset,
    ...dublinTramSummary(r),
    balanced_accuracy: Math.round((r.crossValidated ?? r).balancedAccuracy * 1000) / 1000,
    balanced_accuracy_95: r.balancedAccuracy95.map((x) => Math.round(x * 1000) / 1000),
  }));
  if (format === "json")
    writeJson({ dataset: "dublin-tram", closeDistanceM: evaluation.closeDistanceM, results: rows });
  else
    writeRows(
      rows.map((r) => ({ ...r, balanced_accuracy_95: r.balanced_accuracy_95.join(" to ") })),
      "table",
      [
        "preset",
        "pairs",
        "notifications",
        "tpr",
        "fpr",
        "balanced_accuracy",
        "balanced_accuracy_95",
      ],
    );
}

/** A simulated run: every detector (or the presets named) re-scored from the run folder's files. */
async function evaluateSimulatedRun(dir: string, args: EvaluateArgs): Promise<void> {
  const presets = args.preset?.flatMap((p) => p.split(","));
  for (const name of presets ?? []) presetFor(name);
  const { evaluation } = await rerunFolder(dir, presets ?? PRESET_NAMES);
  const format = args.format ?? (process.stdout.isTTY ? "table" : "json");
  if (format === "json") {
    writeJson({
      run: evaluation.run,
      pairs: evaluation.pairs,
      closeContacts: evaluation.closeContacts,
      detectors: evaluation.detectors,
      prCurves: evaluation.prCurves,
      references: evaluation.references,
      referencePrCurves: evaluation.referencePrCurves,
      ...(evaluation.referencesNote === undefined
        ? {}
        : { referencesNote: evaluation.referencesNote }),
    });
    return;
  }
  writeRows(evaluationRows(evaluation), "table", EVALUATION_COLUMNS);
  writeReferences(evaluation);
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    throw new ConfigError(`--input ${path} does not exist`, "E_INPUT");
  }
}

/** herald-edison: a folder (default split) or the CSV files to report on, fitted on the default training file. */
function evaluateHerald(args: EvaluateArgs & { input: string[] }): void {
  if (args.preset)
    throw new ConfigError(
      "--preset is for dublin-tram; herald-edison compares distance estimators",
      "E_OPTION",
    );
  const folder = args.input.length === 1 && isFolder(args.input[0]);
  for (const path of args.input) isFolder(path);
  const evaluation = evaluateHeraldEdison(
    folder ? { dataDir: args.input[0] } : { dataDir: dirname(args.input[0]), files: args.input },
  );
  const format = args.format ?? (process.stdout.isTTY ? "table" : "json");
  if (format === "json") {
    writeJson(evaluation);
    return;
  }
  process.stdout.write(`${evaluation.split.description}\n\n`);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const { priorOnly } = evaluation;
  writeRows(
    [
      ...evaluation.estimators.map((e) => ({
        estimator: e.name,
        mae_m: round(e.maeM),
        auc: round(e.auc),
        auc_95: e.auc95.map(round).join(" to "),
        auc_within_pair: round(e.aucWithinRecording),
        balanced_accuracy: round(e.balancedAccuracy),
        instants: e.samples,
      })),
      {
        // For scale: what knowing only the training distances gives (no RSSI at all).
        estimator: `(prior: ${priorOnly.distanceM} m always)`,
        mae_m: round(priorOnly.maeM),
        auc: 0.5,
        auc_95: "",
        auc_within_pair: 0.5,
        balanced_accuracy: 0.5,
        instants: evaluation.estimators[0]?.samples ?? 0,
      },
    ],
    "table",
    ["estimator", "mae_m", "auc", "auc_95", "auc_within_pair", "balanced_accuracy", "instants"],
  );
  // Paired bootstrap over the same resampled placements: can the data tell the AUCs apart?
  for (const d of evaluation.aucDifferences) {
    const [lo, hi] = d.interval95.map(round);
    const told = lo > 0 || hi < 0 ? "" : " (not told apart)";
    process.stdout.write(
      `${d.estimator} minus ${d.versus}: AUC ${round(d.difference)}, 95 % interval ${lo} to ${hi}${told}\n`,
    );
  }
}

/** `--dataset NAME|all` without `--input`: every estimator and detector across the campaigns. */
async function evaluateAcrossCampaigns(dataset: string, args: EvaluateArgs): Promise<void> {
  if (args.preset)
    throw new ConfigError(
      "--preset is for --run and for dublin-tram with --input; across campaigns every preset is scored",
      "E_OPTION",
    );
  const dataRoot = args.data ?? defaultDataRoot();
  if (!existsSync(dataRoot) || !statSync(dataRoot).isDirectory())
    throw new ConfigError(
      `--data ${dataRoot} is not a folder: it should hold the campaigns (herald-edison/, dp3t-epfl/, body-position/, mit-matrix/, pi-multichannel/, dublin-tram/, gaen/)`,
      "E_INPUT",
    );
  const closeDistancesM = args["close-distance"]?.map((d) => {
    if (!(typeof d === "number" && d > 0 && d <= 50))
      throw new ConfigError(
        `--close-distance must be a distance in (0, 50] m, got ${d}`,
        "E_RANGE",
      );
    return d;
  });
  const closeMinutes = args["close-minutes"];
  if (closeMinutes !== undefined && !(closeMinutes > 0 && closeMinutes <= 60))
    throw new ConfigError(
      `--close-minutes must be in (0, 60] (the camera covers 20-32 min per scenario), got ${closeMinutes}`,
      "E_RANGE",
    );
  const resamples =
    args.resamples === undefined
      ? undefined
      : parseInteger(args.resamples, "--resamples", 20, 100_000);
  const simToReal = args["sim-to-real"] === true;
  if (args["sim-seeds"] !== undefined && !simToReal)
    throw new ConfigError("--sim-seeds is for --sim-to-real", "E_USAGE");
  const simSeeds =
    args["sim-seeds"] === undefined
      ? SIM_TO_REAL_SEEDS.length
      : parseInteger(args["sim-seeds"], "--sim-seeds", 1, 50);
  if (simToReal && dataset !== "all" && dataset !== "dp3t-exp05")
    throw new ConfigError(
      `--sim-to-real compares the epfl-* replays with DP-3T exp05: give --dataset all or dp3t-exp05, not ${dataset}`,
      "E_USAGE",
    );
  if (simToReal && !simToRealDataPresent(dataRoot))
    throw new ConfigError(
      `--sim-to-real needs the DP-3T exp05 recordings and camera tracks under ${dataRoot}/dp3t-epfl/exp05-epfl-soldiers`,
      "E_INPUT",
    );
  // Before the evaluation (minutes long): a folder that cannot be made or written fails now.
  if (args.report !== undefined) prepareOutputFolder(args.report, "--report");
  const bar = progressBar(`evaluate ${dataset}`);
  let evaluation: ReturnType<typeof evaluateCampaigns>;
  try {
    evaluation = evaluateCampaigns({
      dataRoot,
      dataset,
      closeDistancesM,
      closeMinutes,
      resamples,
      onProgress: (stage, fraction) => bar.update(fraction, stage),
    });
  } finally {
    bar.stop();
  }
  let agreement: SimToRealResult | undefined;
  if (simToReal) {
    const simBar = progressBar("sim-to-real");
    try {
      agreement = evaluateSimToReal({
        dataRoot,
        seeds: Array.from({ length: simSeeds }, (_, k) => k + 1),
        closeDistanceM: closeDistancesM?.[0],
        closeMinutes,
        onProgress: (stage, f) => simBar.update(f, stage),
      });
    } finally {
      simBar.stop();
    }
  }
  if (args.report !== undefined) {
    const path = await writeCampaignReport(args.report, evaluation, agreement);
    process.stderr.write(`proxkit: report written to ${path}\n`);
  }
  const format = args.format ?? (process.stdout.isTTY ? "table" : "json");
  if (format === "json")
    writeJson(agreement ? { ...evaluation, simToReal: agreement } : evaluation);
  else {
    writeCampaignTables(evaluation);
    if (agreement) writeSimToRealTables(agreement);
  }
}

export const evaluateCommand: CommandModule<object, EvaluateArgs> = {
  command: "evaluate",
  describe:
    "Score detectors against real measurements with known distances, or against a simulated run's ground truth",
  builder: (yargs: Argv) =>
    yargs
      .option("dataset", {
        type: "string",
        choices: DATASET_NAMES,
        describe:
          "A real campaign, or all of them: estimators fitted on the other campaigns and scored on it (leave one campaign out)",
      })
      .option("data", {
        type: "string",
        describe:
          "The folder holding the campaigns [default: ../shared/data beside the repository]",
      })
      .option("input", {
        type: "string",
        array: true,
        describe:
          "herald-edison and dublin-tram only: the campaign's folder (or rig files) for its own within-campaign evaluation, as before the cross-campaign one",
      })
      .option("report", {
        type: "string",
        describe:
          "With --dataset: also write report.html (charts and tables, self-contained) in this folder",
      })
      .option("close-distance", {
        type: "number",
        array: true,
        describe: "exp05 contact rules: within these distances, m [default: 2 and 1.5]",
      })
      .option("close-minutes", {
        type: "number",
        describe: "exp05 contact rules: for at least this long, min [default: 15]",
      })
      .option("resamples", {
        type: "number",
        describe: "Bootstrap resamples of each interval [default: 400]",
      })
      .option("sim-to-real", {
        type: "boolean",
        describe:
          "With --dataset all or dp3t-exp05: also simulate the five epfl-* replays and compare each rule's F1 there with its F1 on the real recording of the same crowd (table sim-to-real, JSON simToReal; about a minute more)",
      })
      .option("sim-seeds", {
        type: "number",
        describe: "--sim-to-real: simulate seeds 1..N and average their F1 [default: 5]",
      })
      .option("run", {
        type: "string",
        describe:
          "A proxkit simulate --out folder: redo matching and detection from its sightings (sightings.parquet or sightings.jsonl), keys.jsonl and truth.jsonl",
      })
      .option("preset", {
        type: "string",
        array: true,
        describe: `Only these presets: ${PRESET_NAMES.join(", ")} [default: all, ours first]`,
      })
      .option("format", {
        alias: "f",
        type: "string",
        choices: ["json", "table"],
        describe: "Output [default: table on a terminal, json otherwise]",
      })
      .example(
        "$0 evaluate --run runs/classroom-s1 --format json",
        '{"detectors": [{"name": "proxkit", "precision": ..., "recall": ..., "f1": ...}, ...]}',
      )
      .example(
        "$0 evaluate --dataset all --report runs/campaigns",
        "Every estimator and detector on six real campaigns, leave one campaign out, with report.html",
      )
      .example(
        "$0 evaluate --dataset dp3t-exp05 --sim-to-real",
        "Each rule's F1 on the simulated epfl-* replays against the real exp05 recordings",
      )
      .example(
        "$0 evaluate --dataset mit-matrix -f json",
        "The estimators fitted on the other campaigns, scored on the MIT matrix",
      )
      .example(
        "$0 evaluate --dataset dublin-tram --input ../shared/data/dublin-tram",
        "Reproduce Leith & Farrell's tram study for every preset",
      )
      .example(
        "$0 evaluate --dataset dublin-tram --input ../shared/data/dublin-tram --preset cwa-v1 -f json",
        '{"pairs": 72, "notifications": 0, ...}',
      )
      .epilogue(
        "--dataset without --input: each campaign is read once (streaming) and every estimator run causally over each receiver-transmitter stream, read every 10 s; the fitted ones are fitted on the other campaigns (each weighted equally) and scored on this one: MAE, AUC and balanced accuracy of within 2 m and 1.5 m, each with a 95 % bootstrap interval that resamples whole units (a placement, or a pair of people), never single samples; pooled = the mean over campaigns. dp3t-exp05 adds contact decisions of every detector against the cameras and the DP-3T per-sample curve; dublin-tram adds our detector fitted on the other campaigns; dp3t-anechoic shows the device offsets it calibrates. " +
          "--sim-to-real: the first --close-distance and --close-minutes define close on both sides; each rule (ours as shipped and every preset, as proxkit simulate runs them, GAEN calibration table only) is scored on the real exp05 recording of each crowd scenario and on its simulated epfl-* replay (seeds 1..--sim-seeds, mean F1), then |dF1| per rule and Spearman's rank correlation of the rules (see docs/simulator-epfl.md). " +
          "--run: the simulated run's ground truth decides; precision, recall and F1 over ordered (index case, receiver) pairs, duration error, Herald detection and continuity, then the reference rows (heard), (ceiling) and (ceiling-scans), the ceilings from the run's ceiling.jsonl (see proxkit simulate --help). " +
          "dublin-tram: a pair is close when its handsets were at most 2 m apart; each pair's minutes per 2 dB attenuation bin are spread evenly over the bin's whole-dB values, so a bin straddling a threshold counts in proportion. Our detector (proxkit) is reported cross-validated, leave one handset out. herald-edison: estimators are fitted on test 5 (Pixel 2 / Galaxy A20) and reported on tests 7 and 8 (Note 8 / Pixel 2), read every 30 s, causally.",
      ) as unknown as Argv<EvaluateArgs>,
  handler: async (args) => {
    if (args.run !== undefined) {
      if (args.dataset !== undefined || args.input !== undefined)
        throw new ConfigError(
          "--run evaluates a simulated run; drop --dataset and --input",
          "E_USAGE",
        );
      await evaluateSimulatedRun(args.run, args);
      return;
    }
    if (args.dataset === undefined)
      throw new ConfigError(
        "give --run DIR (a simulated run) or --dataset NAME|all (real campaigns)",
        "E_USAGE",
      );
    if (args.input !== undefined) {
      if (args.dataset !== "dublin-tram" && args.dataset !== "herald-edison")
        throw new ConfigError(
          `--input is for the within-campaign evaluations of herald-edison and dublin-tram; for ${args.dataset} give the data root with --data`,
          "E_USAGE",
        );
      if (args.report !== undefined)
        throw new ConfigError(
          "--report is for the cross-campaign evaluation: drop --input",
          "E_USAGE",
        );
      const withInput = { ...args, input: args.input };
      if (args.dataset === "dublin-tram") evaluateTram(withInput);
      else evaluateHerald(withInput);
      return;
    }
    await evaluateAcrossCampaigns(args.dataset, args);
  },
};
