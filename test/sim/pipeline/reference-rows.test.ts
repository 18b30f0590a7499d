import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readRunFiles } from "../../../sim/pipeline/run-files.js";
import {
  pipelineReportRun,
  rerunFolder,
  runPipeline,
  writePipelineRun,
} from "../../../sim/pipeline/run-pipeline.js";
import { renderReport } from "../../../sim/report/render-report.js";
import { builtInScenario } from "../../../sim/world/scenario.js";

// A small classroom: 10 agents for 20 minutes.
const small = { seed: 5, agents: 10, durationS: 1200, presets: ["proxkit", "cwa-v2"] } as const;

function writeFolder(result: ReturnType<typeof runPipeline>): string {
  const dir = mkdtempSync(join(tmpdir(), "proxkit-refs-"));
  writePipelineRun(dir, result);
  return dir;
}

describe("reference rows of a simulated run", () => {
  const result = runPipeline(builtInScenario("classroom"), small);
  const dir = writeFolder(result);

  it("heard notifies every ordered pair with a detection row; the ceiling is computed", () => {
    const e = result.evaluation;
    expect(e.references.map((r) => r.name)).toEqual(["heard", "ceiling", "ceiling-scans"]);
    const heard = e.references[0];
    const pairs = new Set(result.detections.map((d) => `${d.index}>${d.receiver}`));
    expect(heard.truePositives + heard.falsePositives).toBe(pairs.size);
    expect(heard.truePositives + heard.falseNegatives).toBe(e.closeContacts);
    const ceiling = e.references[1];
    expect(ceiling.thresholdDbm).toBeLessThan(-60);
    expect(ceiling.thresholdDbm).toBeGreaterThanOrEqual(-100);
    expect(ceiling.truePositives + ceiling.falseNegatives).toBe(e.closeContacts);
    expect(e.referencesNote).toBeUndefined();
    expect(e.referencePrCurves[0].reference).toBe("ceiling");
    expect(e.referencePrCurves[0].points.length).toBeGreaterThan(1);
    // At the scans: a threshold on the same grid, the same close contacts to find.
    const scans = e.references[2];
    expect(scans.thresholdDbm).toBeGreaterThanOrEqual(-100);
    expect(scans.truePositives + scans.falseNegatives).toBe(e.closeContacts);
    expect(e.referencePrCurves.map((c) => c.reference)).toEqual(["ceiling", "ceiling-scans"]);
    const c = result.data.ceiling;
    expect(c !== undefined && "scores" in c ? c.scans?.scans : 0).toBeGreaterThan(10 * 4);
    // Not among the detectors (their shape is a contract).
    expect(e.detectors.map((d) => d.name)).toEqual(["proxkit", "cwa-v2"]);
  });

  it("evaluate --run recomputes identical rows from ceiling.jsonl, and summary.json has them", async () => {
    expect((await readRunFiles(dir)).ceiling).toEqual(result.data.ceiling);
    const again = await rerunFolder(dir, small.presets);
    expect(again.evaluation.references).toEqual(result.evaluation.references);
    expect(again.evaluation.referencePrCurves).toEqual(result.evaluation.referencePrCurves);
    expect(again.evaluation.detectors).toEqual(result.evaluation.detectors);
    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    expect(summary.references).toEqual(result.evaluation.references);
    expect(summary.referencesNote).toBeUndefined();
  });

  it("a ceiling.jsonl from before ceiling-scans evaluates the other rows, with a note", async () => {
    const old = writeFolder(result);
    const path = join(old, "ceiling.jsonl");
    const lines = readFileSync(path, "utf8").split("\n");
    writeFileSync(
      path,
      lines.filter((l) => !/"type":"(ceiling-scans|scans-pair)"/.test(l)).join("\n"),
    );
    const again = await rerunFolder(old, small.presets);
    expect(again.evaluation.references).toEqual(result.evaluation.references.slice(0, 2));
    expect(again.evaluation.referencePrCurves).toEqual(
      result.evaluation.referencePrCurves.slice(0, 1),
    );
    expect(again.evaluation.referencesNote).toMatch(/^ceiling-scans absent/);
  });

  it("a run folder without ceiling.jsonl (older runs) still evaluates, with a note", async () => {
    const old = writeFolder(result);
    rmSync(join(old, "ceiling.jsonl"));
    const again = await rerunFolder(old, small.presets);
    expect(again.evaluation.detectors).toEqual(result.evaluation.detectors);
    expect(again.evaluation.references).toEqual([result.evaluation.references[0]]);
    expect(again.evaluation.referencePrCurves).toEqual([]);
    expect(again.evaluation.referencesNote).toMatch(/^ceiling absent/);
  });

  it("the second pass changes nothing of the run; skipped, it says so", async () => {
    const skipped = runPipeline(builtInScenario("classroom"), { ...small, ceiling: false });
    expect(skipped.data.sightings).toEqual(result.data.sightings);
    expect(skipped.data.truth).toEqual(result.data.truth);
    expect(skipped.detections).toEqual(result.detections);
    expect(skipped.data.ceiling).toEqual({ skipped: "--no-ceiling was given" });
    expect(skipped.evaluation.references.map((r) => r.name)).toEqual(["heard"]);
    expect(skipped.evaluation.referencesNote).toMatch(/ceiling not computed: .*--no-ceiling/);
    const skippedDir = writeFolder(skipped);
    for (const f of [
      "sightings.parquet",
      "keys.jsonl",
      "truth.jsonl",
      "detections.parquet",
      "windows.parquet",
      "truth_pairs.parquet",
      "truth_intervals.parquet",
    ])
      expect(readFileSync(join(skippedDir, f))).toEqual(readFileSync(join(dir, f)));
    expect((await rerunFolder(skippedDir, small.presets)).evaluation.referencesNote).toBe(
      skipped.evaluation.referencesNote,
    );
  });

  it("is deterministic: the same seed writes the same ceiling.jsonl", () => {
    const again = writeFolder(runPipeline(builtInScenario("classroom"), small));
    expect(existsSync(join(dir, "ceiling.jsonl"))).toBe(true);
    for (const f of ["ceiling.jsonl", "summary.json"])
      expect(readFileSync(join(again, f), "utf8")).toBe(readFileSync(join(dir, f), "utf8"));
  });

  it("the report shows both rows under the detectors and the ceiling on the precision-recall chart", async () => {
    const run = pipelineReportRun(result);
    expect(run.detectors.map((d) => d.name)).toEqual(["proxkit", "cwa-v2"]);
    expect(run.references?.map((r) => r.name)).toEqual(["heard", "ceiling", "ceiling-scans"]);
    expect(run.references?.[1].points).toEqual(result.evaluation.referencePrCurves[0].points);
    const html = await renderReport({ title: "t", generatedAt: "now", runs: [run] });
    expect(html).toContain('<tr class="reference"><td>(heard)</td>');
    expect(html).toContain(
      `<tr class="reference"><td>(ceiling) at ${result.evaluation.references[1].thresholdDbm} dBm</td>`,
    );
    expect(html).toContain("RSSI ceiling");
    expect(html).toContain(
      `<tr class="reference"><td>(ceiling-scans) at ${result.evaluation.references[2].thresholdDbm} dBm</td>`,
    );
    expect(html).toContain("what the scanning duty cycle leaves a threshold rule");
  });
});
