/**
 * Opens report.html in headless Chromium (Debian's `chromium`, which `.ci/run` installs) and
 * fails on console errors, page errors, any network request, or a chart that is empty: every
 * chart SVG must have a size and draw data marks.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeReport } from "../../../sim/report/render-report.js";
import type { ReportInput } from "../../../sim/report/report-input.js";
import { fakeReportInput } from "./fake-report-input.js";

const CHROMIUM = "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM)
  console.warn(
    `skipping the report's browser test: ${CHROMIUM} is absent (apt-get install chromium; .ci/run does it)`,
  );

/** Fewest data marks a chart must draw, per chart kind, for the fake input. */
const MIN_MARKS: Record<string, number> = {
  "rssi-vs-distance": 1000,
  "precision-recall": 20,
  "contact-timeline": 30,
};

/** Run in the page (as text: the test's type check has no DOM library). */
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
  noData: document.querySelectorAll(".no-data").length,
})`;

interface PageCheck {
  errors: string[];
  requests: string[];
  charts: { id: string; width: number; height: number; marks: number }[];
  noData: number;
}

describe.skipIf(!HAVE_CHROMIUM)("report.html in headless Chromium", () => {
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "proxkit-report-browser-"));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(name: string, input: ReportInput | string): Promise<PageCheck> {
    const path = join(dir, name);
    if (typeof input === "string") writeFileSync(path, input);
    else await writeReport(path, input);
    const url = pathToFileURL(path).href;
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(`console: ${message.text()}`);
    });
    page.on("pageerror", (error) => errors.push(`page: ${error.message}`));
    page.on("request", (request) => {
      if (request.url() !== url) requests.push(request.url());
    });
    try {
      await page.goto(url, { waitUntil: "load" });
      const found = (await page.evaluate(MEASURE)) as Omit<PageCheck, "errors" | "requests">;
      return { errors, requests, ...found };
    } finally {
      await page.close();
    }
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
