/**
 * Fits channel model v2 (`sim/world/channel-v2.ts`) across the campaigns in `../shared/data`
 * (read at run time) and writes `sim/world/channel-profiles/v2.json`, plus
 * `sim/world/channel-profiles/herald-only.json` (the simulator's current channel in the same
 * form). Leave one campaign out chooses the model's structure (device terms, environment
 * offsets) and is printed as a table: per held-out campaign, the median over distance bins (and
 * carry pairs) of the Wasserstein-1 distance and KS statistic between simulated and measured
 * RSSI, v2 fitted without that campaign beside the herald-only profile. Deterministic: the same
 * data gives the same bytes.
 *
 *   npm run build && node dist/scripts/fit-channel.js [--data ../shared/data] [--out <dir>] [--bins]
 */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  channelFitReport,
  channelLocoTable,
  channelProfileFile,
  channelVariantTable,
} from "../research/channel-validation.js";
import { loadChannelData } from "../sim/world/channel-data.js";
import { heraldOnlyProfile } from "../sim/world/channel-profiles.js";
import {
  fitTauToVariogram,
  shadowingVariogram,
  VARIOGRAM_LAGS_S,
} from "../research/fit-channel.js";
import { repoRoot } from "../src/io/data-root.js";

/** The repository root, from `dist/scripts/` or from `scripts/`. */
const ROOT = repoRoot() ?? resolve(".");

export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      data: { type: "string", default: resolve(ROOT, "../shared/data") },
      out: { type: "string", default: join(ROOT, "sim/world/channel-profiles") },
      bins: { type: "boolean", default: false },
    },
  });
  const data = loadChannelData(resolve(values.data));
  for (const [c, n] of data.counts)
    console.log(`${c}: ${n.read} records, ${n.kept} with a distance`);
  const report = channelFitReport(data);
  console.log("\nshadowing time constant by campaign (variogram of 1-s means within placements):");
  for (const c of ["herald-edison", "body-position", "mit-matrix"] as const) {
    const gamma = shadowingVariogram(data, [c]);
    console.log(
      `  ${c}: τ ${Math.round(fitTauToVariogram(VARIOGRAM_LAGS_S, gamma))} s; γ(L) dB² at L = ${VARIOGRAM_LAGS_S.join(", ")} s: ${gamma.map((g) => (Number.isFinite(g) ? g.toFixed(1) : "-")).join(", ")}`,
    );
  }
  writeFileSync(join(values.out, "v2.json"), jsonText(channelProfileFile(report)));
  writeFileSync(join(values.out, "herald-only.json"), jsonText(heraldOnlyProfile()));
  console.log("\nleave one campaign out, median per-bin W1 (dB) by variant:\n");
  console.log(channelVariantTable(report));
  console.log("\nchosen variant vs herald-only:\n");
  console.log(channelLocoTable(report));
  if (values.bins) {
    report.heldOutBins.forEach((v, i) => {
      const h = report.heraldOnlyBins[i];
      console.log(`\n${v.campaign}: bin | n | v2 W1 | v2 KS | herald-only W1 | herald-only KS`);
      v.bins.forEach((b, k) => {
        const hb = h.bins[k];
        console.log(
          `  ${b.label.padEnd(34)} ${String(b.measured).padStart(6)} ${b.w1Db.toFixed(2).padStart(6)} ${b.ks.toFixed(3)} ${hb.w1Db.toFixed(2).padStart(6)} ${hb.ks.toFixed(3)}`,
        );
      });
    });
  }
  console.log(`\nwrote ${join(values.out, "v2.json")} and herald-only.json`);
}

main();
