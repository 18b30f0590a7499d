/**
 * Our detector on every built-in scenario and seed, against the ceiling at the receivers' scans
 * and the best shipped preset on the same run (issue 12, item 4): one row per run, then per
 * scenario the mean, the worst seed and whether both targets held on every seed.
 *
 *   npm run build && node dist/scripts/detector-seeds.js [--seeds 1-20] [--scenario tram ...] [--json]
 */
import { parseArgs } from "node:util";
import {
  CEILING_SHARE_TARGET,
  PRESET_GAP_TARGET,
  parseSeedList,
  seedRobustness,
} from "../sim/evaluation/seed-robustness.js";
import { BUILT_IN_SCENARIOS, builtInScenario } from "../sim/world/scenario.js";

const f = (x: number | undefined, digits = 3) => (x === undefined ? "-" : x.toFixed(digits));

function main(): void {
  const { values } = parseArgs({
    options: {
      seeds: { type: "string", default: "1-20" },
      scenario: { type: "string", multiple: true },
      json: { type: "boolean", default: false },
    },
  });
  // The city (20,000 agents by default) is a scale test, not one of the study's crowds.
  const names = values.scenario ?? BUILT_IN_SCENARIOS.filter((name) => name !== "city");
  const scenarios = names.map((name) => ({ name, scenario: builtInScenario(name) }));
  const result = seedRobustness(scenarios, parseSeedList(values.seeds), {
    onRun: (scenario, seed) => process.stderr.write(`${scenario} seed ${seed}\n`),
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
    return;
  }
  process.stdout.write(
    `| scenario | seeds | ours (mean F1) | ceiling-scans (mean) | worst seed | ours / ceiling there | min ours / ceiling | min ours − best preset | targets (≥ ${CEILING_SHARE_TARGET} × ceiling, ≥ best − ${PRESET_GAP_TARGET}) |\n|---|---|---|---|---|---|---|---|---|\n`,
  );
  for (const s of result.scenarios)
    process.stdout.write(
      `| ${s.scenario} | ${s.seeds} | ${f(s.meanOurs)} | ${f(s.meanCeilingScans)} | ${s.worst.seed} | ${f(s.worst.ceilingShare, 2)} | ${f(s.minCeilingShare, 2)} | ${f(s.minGapToBest)} | ${s.targetsMet ? "met" : "not met"} |\n`,
    );
}

main();
