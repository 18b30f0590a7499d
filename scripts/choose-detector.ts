/**
 * Chooses our default detector from the rows of `scripts/detector-study.ts` (issue 12, item 4).
 *
 * The rule: per channel, a candidate's mean share of what was achievable, averaged over
 * scenarios (each scenario the mean over its seeds): in simulation its F1 over `ceiling-scans`,
 * on a real recording (channel `real`) its F1 over the best F1 any rule reached there in
 * hindsight. Among the channels it is chosen on (`--on`, default the simulator's two profiles,
 * `v2` and `herald-only`), the chosen candidate has the highest mean over channels, the worst
 * channel breaking ties (`--aggregate worst`: the reverse). The same choice is made leaving each
 * scenario out (chosen on the others, scored on it), which is what carries over to a crowd nobody
 * tuned on. Then, per scenario and channel (every channel in the files, the others as checks),
 * the chosen candidate against the targets (≥ 0.95 × ceiling-scans and ≥ best preset − 0.02 on
 * every seed) beside two bounds of the family: the best candidate for
 * that group in hindsight and the best for each run.
 *
 *   node dist/scripts/choose-detector.js study.jsonl [more.jsonl ...] [--on v2 --on herald-only] [--aggregate mean|worst] [--json]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  GAP_TARGET,
  mean,
  SHARE_TARGET,
  Study,
  type StudyRow,
} from "../sim/evaluation/detector-choice.js";
import { PRESET_NAMES } from "../src/exposure/risk-preset.js";

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      on: { type: "string", multiple: true, default: ["v2", "herald-only"] },
      aggregate: { type: "string", default: "mean" },
    },
  });
  const rows: StudyRow[] = (positionals.length > 0 ? positionals : ["detector-study.jsonl"])
    .flatMap((file) => readFileSync(file, "utf8").split("\n"))
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as StudyRow);
  if (values.aggregate !== "mean" && values.aggregate !== "worst")
    throw new Error(`--aggregate must be mean or worst, not "${values.aggregate}"`);
  const study = new Study(rows, values.aggregate);
  const candidates = Object.keys(rows[0].f1).filter((n) => n.startsWith("ours") || n === "proxkit");
  const presets = PRESET_NAMES.filter((n) => n !== "proxkit");
  const on = values.on;
  for (const channel of on)
    if (!study.groups.has(channel)) throw new Error(`no rows on channel "${channel}"`);
  const chosen = study.choose(candidates, on);
  const scenarios = [...new Set(rows.map((r) => r.scenario))];
  const loso = scenarios.map((held) => {
    const pick = study.choose(candidates, on, (s) => s !== held);
    const scored = [...study.groups].flatMap(([channel, byScenario]) => {
      const list = on.includes(channel) ? byScenario.get(held) : undefined;
      return list
        ? [
            {
              channel,
              meanShare: mean(list.map((r) => study.share(r, pick.name))),
              meanF1: mean(list.map((r) => r.f1[pick.name])),
            },
          ]
        : [];
    });
    return { scenario: held, chosen: pick.name, scored };
  });
  const table = [...study.groups].flatMap(([channel, byScenario]) =>
    [...byScenario].map(([scenario, list]) => {
      const bestPreset = list.map((r) => Math.max(...presets.map((p) => r.f1[p])));
      const ours = list.map((r) => r.f1[chosen.name]);
      const shares = list.map((r) => study.share(r, chosen.name));
      const worstAt = shares.indexOf(Math.min(...shares));
      let hindsight = { name: "", share: -1 };
      for (const c of candidates) {
        const s = mean(list.map((r) => study.share(r, c)));
        if (s > hindsight.share) hindsight = { name: c, share: s };
      }
      const perRun = list.map((r) => Math.max(...candidates.map((c) => study.share(r, c))));
      return {
        scenario,
        channel,
        seeds: list.length,
        meanOurs: mean(ours),
        meanShipped: mean(list.map((r) => r.f1.proxkit)),
        meanBestPreset: mean(bestPreset),
        meanReach: mean(list.map((r) => r.ceilingScans ?? Math.max(...Object.values(r.f1)))),
        worstSeed: list[worstAt].seed,
        worstShare: shares[worstAt],
        minGap: Math.min(...ours.map((o, i) => o - bestPreset[i])),
        met:
          shares.every((s) => s >= SHARE_TARGET) &&
          ours.every((o, i) => o >= bestPreset[i] - GAP_TARGET),
        hindsightGroup: hindsight,
        hindsightRunMinShare: Math.min(...perRun),
      };
    }),
  );
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ chosen: { ...chosen, channels: Object.fromEntries(chosen.channels) }, loso, table }, null, 1)}\n`,
    );
    return;
  }
  const f = (x: number, d = 3) => x.toFixed(d);
  const channelText = (m: Map<string, number>) => [...m].map(([c, s]) => `${c} ${f(s)}`).join(", ");
  process.stdout.write(
    `chosen on ${on.join(", ")} (${values.aggregate} over channels): ${chosen.name} (mean share per channel: ${channelText(chosen.channels)})\n\nrunners-up (every channel):\n`,
  );
  const every = [...study.groups.keys()];
  const ranked = candidates
    .map((c) => ({
      c,
      m: study.channelShares(c, () => true, every),
      o: study.channelShares(c, () => true, on),
    }))
    .sort((a, b) => {
      const score = (m: Map<string, number>) =>
        values.aggregate === "mean" ? mean([...m.values()]) : Math.min(...m.values());
      return score(b.o) - score(a.o);
    });
  for (const { c, m } of ranked.slice(0, 8)) process.stdout.write(`  ${c}: ${channelText(m)}\n`);
  process.stdout.write(
    "\nleave one scenario out:\n\n| held-out scenario | chosen on the others | channel | mean share | mean F1 |\n|---|---|---|---|---|\n",
  );
  for (const l of loso)
    for (const g of l.scored)
      process.stdout.write(
        `| ${l.scenario} | ${l.chosen} | ${g.channel} | ${f(g.meanShare)} | ${f(g.meanF1)} |\n`,
      );
  process.stdout.write(
    `\n| scenario | channel | seeds | ours (mean F1) | shipped proxkit | best preset of each run | ceiling-scans (real: best rule) | worst seed | ours / ceiling there | min ours − best preset | targets | best candidate for the group (mean share) | best candidate per run, worst share |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n`,
  );
  for (const t of table)
    process.stdout.write(
      `| ${t.scenario} | ${t.channel} | ${t.seeds} | ${f(t.meanOurs)} | ${f(t.meanShipped)} | ${f(t.meanBestPreset)} | ${f(t.meanReach)} | ${t.worstSeed} | ${f(t.worstShare, 2)} | ${f(t.minGap)} | ${t.met ? "met" : "not met"} | ${t.hindsightGroup.name} (${f(t.hindsightGroup.share, 2)}) | ${f(t.hindsightRunMinShare, 2)} |\n`,
    );
}

main();
