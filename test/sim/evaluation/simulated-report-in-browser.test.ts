/**
 * The report of a real simulated run (not a fake input) in headless Chromium: no console or page
 * errors, no network request, and every chart drawn with a size and data marks.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { reportChannel } from "../../../sim/evaluation/report-run.js";
import { pipelineReportRun, runPipeline } from "../../../sim/pipeline/run-pipeline.js";
import { loadMeasuredRssiVsDistance } from "../../../sim/report/measured-rssi-vs-distance.js";
import { writeReport } from "../../../sim/report/render-report.js";
import { CHANNEL_PROFILES } from "../../../sim/world/channel-profiles.js";
import { builtInScenario } from "../../../sim/world/scenario.js";
import { defaultDataRoot } from "../../../src/io/data-root.js";
import { checkReportPage, CHROMIUM_TOOL, launchChromium } from "../report/report-browser.js";
import { describeWith } from "../../support/requirements.js";

describeWith(CHROMIUM_TOOL)("report.html of a simulated run", () => {
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "proxkit-sim-report-"));
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("draws RSSI against distance, precision-recall and the timeline without errors", async () => {
    const result = runPipeline(builtInScenario("classroom"), {
      seed: 2,
      agents: 12,
      durationS: 1800,
      channel: "v2",
    });
    const path = join(dir, "report.html");
    const v2 = CHANNEL_PROFILES.v2;
    // The measured campaigns when the data folder is there, else the note that it is not.
    const measured = loadMeasuredRssiVsDistance(v2, {
      dataRoot: defaultDataRoot(),
      maxPoints: 1000,
    });
    await writeReport(path, {
      title: "classroom",
      generatedAt: "2026-11-27T00:00:00Z",
      runs: [pipelineReportRun(result, { channel: reportChannel(v2), measured })],
    });
    const { errors, requests, charts } = await checkReportPage(browser, path);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    expect(charts.map((c) => c.id)).toEqual([
      "rssi-vs-distance",
      "precision-recall",
      "contact-timeline",
    ]);
    for (const c of charts) {
      expect(c.width, c.id).toBeGreaterThan(200);
      expect(c.height, c.id).toBeGreaterThan(100);
      expect(c.marks, c.id).toBeGreaterThan(5);
    }
  }, 60_000);
});
