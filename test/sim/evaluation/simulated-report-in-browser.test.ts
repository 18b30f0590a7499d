/**
 * The report of a real simulated run (not a fake input) in headless Chromium: no console or page
 * errors, no network request, and every chart drawn with a size and data marks.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pipelineReportRun, runPipeline } from "../../../sim/pipeline/run-pipeline.js";
import { writeReport } from "../../../sim/report/render-report.js";
import { builtInScenario } from "../../../sim/world/scenario.js";

const CHROMIUM = "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM)
  console.warn(`skipping the simulated report's browser test: ${CHROMIUM} is absent`);

const MEASURE = `({
  charts: [...document.querySelectorAll(".chart")].map((box) => {
    const svg = box.querySelector("svg");
    const rect = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
    return {
      id: box.dataset.chart || "",
      width: rect.width,
      height: rect.height,
      marks: svg ? svg.querySelectorAll('g[class*="role-mark"] > *').length : 0,
    };
  }),
})`;

describe.skipIf(!HAVE_CHROMIUM)("report.html of a simulated run", () => {
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "proxkit-sim-report-"));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
    });
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
    });
    const path = join(dir, "report.html");
    await writeReport(path, {
      title: "classroom",
      generatedAt: "2026-11-27T00:00:00Z",
      runs: [pipelineReportRun(result)],
    });
    const url = pathToFileURL(path).href;
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("request", (r) => {
      if (r.url() !== url) requests.push(r.url());
    });
    await page.goto(url, { waitUntil: "load" });
    const { charts } = (await page.evaluate(MEASURE)) as {
      charts: { id: string; width: number; height: number; marks: number }[];
    };
    await page.close();
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
