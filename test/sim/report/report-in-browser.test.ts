/**
 * Opens report.html in headless Chromium (Debian's `chromium`, which `.ci/run` installs) and
 * fails on console errors, page errors, any network request, or a chart that is empty: every
 * chart SVG must have a size and draw data marks.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { writeReport } from "../../../sim/report/render-report.js";
import type { ReportInput } from "../../../sim/report/report-input.js";
import { fakeReportInput } from "./fake-report-input.js";
import {
  checkReportPage,
  CHROMIUM_TOOL,
  launchChromium,
  type PageCheck,
} from "./report-browser.js";
import { describeWith } from "../../support/requirements.js";

/** Fewest data marks a chart must draw, per chart kind, for the fake input. */
const MIN_MARKS: Record<string, number> = {
  "rssi-vs-distance": 1000,
  "precision-recall": 20,
  "contact-timeline": 30,
};

describeWith(CHROMIUM_TOOL)("report.html in headless Chromium", () => {
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "proxkit-report-browser-"));
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(name: string, input: ReportInput | string): Promise<PageCheck> {
    const path = join(dir, name);
    if (typeof input === "string") writeFileSync(path, input);
    else await writeReport(path, input);
    return checkReportPage(browser, path);
  }

  it("renders every chart with a size and its data marks, without errors or requests", async () => {
    const check = await open("report.html", fakeReportInput());
    expect(check.errors).toEqual([]);
    expect(check.requests).toEqual([]);
    expect(check.noData).toBe(0);
    expect(check.charts.map((c) => c.id)).toEqual([
      "rssi-vs-distance",
      "precision-recall",
      "contact-timeline",
      "rssi-vs-distance",
      "precision-recall",
      "contact-timeline",
    ]);
    for (const chart of check.charts) {
      expect(chart.width, chart.id).toBeGreaterThan(200);
      expect(chart.height, chart.id).toBeGreaterThan(200);
      expect(chart.marks, chart.id).toBeGreaterThan(MIN_MARKS[chart.id]);
    }
  });

  it("shows 'no data' notes, and no empty chart, for a run without data", async () => {
    const check = await open("empty.html", {
      title: "empty",
      generatedAt: "2026-11-27T00:00:00Z",
      runs: [
        {
          scenario: "classroom",
          protocol: "gaen",
          agents: 0,
          durationS: 0,
          seed: 1,
          detectors: [],
          prCurves: [],
          rssiVsDistance: { simulated: [] },
          timeline: [],
        },
      ],
    });
    expect(check.errors).toEqual([]);
    expect(check.requests).toEqual([]);
    expect(check.charts).toEqual([]);
    expect(check.noData).toBe(4);
  });

  it("catches a broken page (the check itself works)", async () => {
    const check = await open(
      "broken.html",
      `<!DOCTYPE html><html><body><script>throw new Error("boom")</script>
<div class="chart" data-chart="x"><svg width="0" height="0"></svg></div>
<img src="http://127.0.0.1:9/missing.png"></body></html>`,
    );
    expect(check.errors.some((e) => e.includes("boom"))).toBe(true);
    expect(check.requests).toEqual(["http://127.0.0.1:9/missing.png"]);
    expect(check.charts).toEqual([{ id: "x", width: 0, height: 0, marks: 0 }]);
  });
});
