/**
 * The runs behind the choice of our default detector (issue 12, item 4): every built-in scenario,
 * every seed and every channel profile through the whole pipeline, scoring the shipped presets
 * and a grid of our detector's own parameters (the attenuation that counts as close, the close
 * minutes that notify) on the same matched windows, beside `ceiling-scans`. One JSON line per
 * run is appended to `--out`; a run already there is not redone, so an interrupted study
 * resumes. `scripts/choose-detector.ts` reads the lines and chooses.
 *
 *   npm run build && node dist/scripts/detector-study.js --channel v2 --seeds 1-20 --out study.jsonl
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseSeedList } from "../sim/evaluation/seed-robustness.js";
import { realContactF1 } from "../research/sim-to-real.js";
import { runPipeline } from "../sim/pipeline/run-pipeline.js";
import { EPFL_SCENARIO_NAMES, EPFL_SCENARIOS } from "../sim/world/epfl-scenarios.js";
import { BUILT_IN_SCENARIOS, builtInScenario } from "../sim/world/scenario.js";
import { PRESET_NAMES, presetFor, type RiskPreset } from "../src/exposure/risk-preset.js";
import { defaultDataRoot } from "../src/io/data-root.js";

/** Our detector's thresholds tried, dB of attenuation, and the close minutes that notify. */
export const CANDIDATE_THRESHOLDS_DB = [
  45, 47.5, 50, 52.5, 55, 57.5, 60, 62.5, 65, 67.5, 70, 72.5, 75, 77.5, 80,
];
export const CANDIDATE_NOTIFY_MINUTES = [10, 15];

/** A candidate's name: `ours@<dB>/<minutes>`, `ours~<dB>/<minutes>` for expected close time. */
export function candidateName(thresholdDb: number, minutes: number, expected = false): string {
  return `ours${expected ? "~" : "@"}${thresholdDb}/${minutes}`;
}

export function candidates(): RiskPreset[] {
  const base = presetFor("proxkit");
  return [false, true].flatMap((expected) =>
    CANDIDATE_THRESHOLDS_DB.flatMap((db) =>
      CANDIDATE_NOTIFY_MINUTES.map(
        (minutes): RiskPreset => ({
          ...base,
          name: candidateName(db, minutes, expected),
          closeAttenuationDb: db,
          notifyAtCloseMinutes: minutes,
          closeTime: expected ? "expected" : "threshold",
        }),
      ),
    ),
  );
}

function main(): void {
  const { values } = parseArgs({
    options: {
      seeds: { type: "string", default: "1-20" },
      scenario: { type: "string", multiple: true },
      channel: { type: "string", default: "v2" },
      out: { type: "string", default: "detector-study.jsonl" },
      real: { type: "boolean", default: false },
    },
  });
  const detectors = [...PRESET_NAMES.map((n) => presetFor(n)), ...candidates()];
  const names = detectors.map((d) => d.name);
  if (values.real) {
    // Every rule on the real DP-3T exp05 recordings of the five crowds (channel "real").
    const real = realContactF1({
      dataRoot: defaultDataRoot(),
      scenarios: EPFL_SCENARIO_NAMES.map((n) => EPFL_SCENARIOS[n]),
      presets: detectors,
      closeDistanceM: 2,
      closeMinutes: 15,
    });
    for (const name of EPFL_SCENARIO_NAMES) {
      const r = real.get(EPFL_SCENARIOS[name])!;
      const f1 = Object.fromEntries(names.map((n, i) => [n, r.f1[i]]));
      const row = {
        scenario: name,
        channel: "real",
        seed: 0,
        closeContacts: r.closeContacts,
        ceilingScans: null,
        f1,
      };
      appendFileSync(values.out, `${JSON.stringify(row)}\n`);
    }
    return;
  }
  const done = new Set<string>();
  if (existsSync(values.out))
    for (const line of readFileSync(values.out, "utf8").split("\n"))
      if (line.trim()) {
        const r = JSON.parse(line) as { scenario: string; channel: string; seed: number };
        done.add(`${r.scenario}|${r.channel}|${r.seed}`);
      }
  // The city (20,000 agents by default) is a scale test, not one of the study's crowds.
  for (const name of values.scenario ?? BUILT_IN_SCENARIOS.filter((n) => n !== "city"))
    for (const seed of parseSeedList(values.seeds)) {
      if (done.has(`${name}|${values.channel}|${seed}`)) continue;
      const t0 = performance.now();
      const { evaluation } = runPipeline(builtInScenario(name), {
        seed,
        channel: values.channel,
        ceiling: true,
        detectors,
      });
      const f1: Record<string, number> = {};
      for (const d of evaluation.detectors) f1[d.name] = d.f1;
      const ceiling = evaluation.references.find((r) => r.name === "ceiling-scans")?.f1;
      const row = {
        scenario: name,
        channel: values.channel,
        seed,
        closeContacts: evaluation.closeContacts,
        ceilingScans: ceiling ?? null,
        f1,
      };
      appendFileSync(values.out, `${JSON.stringify(row)}\n`);
      process.stderr.write(
        `${name} ${values.channel} seed ${seed}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
      );
    }
}

main();
