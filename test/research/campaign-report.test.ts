import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  differenceVerdict,
  formatDifference,
  formatEstimate,
  renderCampaignReport,
  writeCampaignReport,
} from "../../research/campaign-report.js";
import type { CampaignEvaluation } from "../../research/evaluate-campaigns.js";
import type { Exp05ContactResult } from "../../research/exp05-contacts.js";
import type { Estimate95 } from "../../research/unit-bootstrap.js";
import { checkReportPage, CHROMIUM_TOOL, launchChromium } from "../sim/report/report-browser.js";
import { chartMarks, chartsOf } from "../sim/report/report-html.js";
import { describeWith } from "../support/requirements.js";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "proxkit-campaign-report-"));
  dirs.push(dir);
  return dir;
}

const est = (value: number, low: number, high: number): Estimate95 => ({
  value,
  interval95: [low, high],
});

const SECTIONS = [
  "Campaigns",
  "RSSI against distance",
  "Distance estimators, leave one campaign out",
  "Detector fits",
  "DP-3T exp05: contact decisions",
  "DP-3T exp05: per-sample reproduction",
  "Dublin tram",
  "Anechoic device offsets",
];

function contacts(closeDistanceM: number): Exp05ContactResult {
  const detector = (name: string, f1: number) => ({
    detector: name,
    notified: 12,
    truePositives: 6,
    precision: est(0.5, 0.4, 0.6),
    recall: est(0.3, 0.2, 0.4),
    f1: est(f1, f1 - 0.05, f1 + 0.05),
    auc: est(0.64, 0.59, 0.69),
    prCurve: Array.from({ length: 10 }, (_, i) => ({
      precision: 1 - i * 0.07,
      recall: (i + 1) / 10,
    })),
  });
  return {
    closeDistanceM,
    closeMinutes: 15,
    pairs: 100,
    closeContacts: 20,
    scenarios: [
      {
        scenario: "lunch",
        pairs: 60,
        closeContacts: 12,
        heardPairs: 60,
        cameraMinutes: 32,
        detectors: [
          { detector: "proxkit", f1: 0.41 },
          { detector: "cwa-v1", f1: 0.22 },
        ],
      },
      {
        scenario: "party",
        pairs: 40,
        closeContacts: 8,
        heardPairs: 40,
        cameraMinutes: 20,
        detectors: [
          { detector: "proxkit", f1: 0.3 },
          { detector: "cwa-v1", f1: 0.25 },
        ],
      },
    ],
    detectors: [detector("proxkit", 0.335), detector("cwa-v1", 0.184)],
    f1Differences: [
      { detector: "proxkit", versus: "cwa-v1", difference: est(0.151, 0.094, 0.201) },
    ],
  };
}

/** A small evaluation of two campaigns, every section present. */
function fakeEvaluation(): CampaignEvaluation {
  const scores = (estimator: string, auc: number) => ({
    estimator,
    maeM: est(1.04, 0.947, 1.149),
    decisions: [
      {
        distanceM: 2,
        auc: est(auc, auc - 0.061, auc + 0.039),
        balancedAccuracy: est(0.585, 0.544, 0.615),
      },
      {
        distanceM: 1.5,
        auc: est(0.774, 0.715, 0.813),
        balancedAccuracy: est(0.566, 0.524, 0.595),
      },
    ],
  });
  const heldOut = (campaign: string) => ({
    campaign,
    instants: 500,
    units: 20,
    withinShare: [0.5, 0.3],
    estimators: [scores("proxkit", 0.765), scores("herald", 0.663), scores("log-distance", 0.75)],
    priorOnly: { distanceM: 1.8, maeM: 1.02 },
  });
  const rssi = (campaign: string, carries: string[]) =>
    Array.from({ length: 60 }, (_, i) => ({
      campaign,
      carry: carries[i % carries.length],
      distanceM: 0.2 + (i % 15) * 0.3,
      rssiDbm: -60 - 10 * Math.log10(0.2 + (i % 15) * 0.3) - (i % 7),
    }));
  const curve = Array.from({ length: 71 }, (_, i) => ({
    thresholdDb: 30 + i,
    precision: 1 - i * 0.006,
    recall: Math.min(1, i * 0.02),
    f1: 0.5,
  }));
  const tramResult = (preset: string, notifications: number) => ({
    preset,
    title: `${preset} rule`,
    model: "v1-attenuation-durations" as const,
    pairs: 72,
    positives: 34,
    negatives: 38,
    notifications,
    tp: 12,
    fp: 16,
    fn: 22,
    tn: 22,
    tpr: 0.353,
    fpr: 0.421,
    precision: 0.43,
    balancedAccuracy: 0.466,
    youdenJ: -0.068,
    balancedAccuracy95: [0.353, 0.566] as const,
  });
  return {
    dataset: "all",
    dataRoot: "../shared/data",
    calibration: "../shared/data/gaen/en-calibration-2020-06-13.csv",
    campaigns: [
      {
        name: "herald-edison",
        source: "Herald project (Apache-2.0)",
        description: "robot rig, <b>two</b> phones",
        role: "estimators",
        records: 358_298,
        streams: 6,
        instants: 500,
        units: 20,
        pathLoss: { rssiAt1mDbm: -60, exponent: 1.2, residualDb: 6.1 },
      },
      {
        name: "body-position",
        source: "pc-ng/rss_smartphone (MIT)",
        description: "two people, hand/pocket/backpack",
        role: "estimators",
        records: 1000,
        streams: 10,
        instants: 500,
        units: 20,
      },
    ],
    estimators: {
      campaigns: [heldOut("herald-edison"), heldOut("body-position")],
      pooled: [scores("proxkit", 0.765), scores("herald", 0.663), scores("log-distance", 0.75)],
      aucDifferences: [
        { estimator: "proxkit", versus: "herald", difference: est(0.102, 0.056, 0.139) },
        { estimator: "proxkit", versus: "log-distance", difference: est(0.015, -0.02, 0.05) },
      ],
      priorOnlyMaeM: 1.03,
    },
    detectorFits: [
      { heldOut: "dp3t-exp05", closeAttenuationDb: 55.5, closeScaleDb: 10 },
      { heldOut: "dublin-tram", closeAttenuationDb: 55.6, closeScaleDb: 8.85 },
    ],
    detectorFitAll: { closeAttenuationDb: 55.6, closeScaleDb: 8.85 },
    estimatorFitAll: { attenuationAt1mDb: -3.09, pathLossExponent: 21.65 },
    exp05: {
      contacts: [contacts(2), contacts(1.5)],
      perSample: {
        samples: 139_837,
        closeShare: 0.564,
        closeDistanceM: 2,
        curve,
        bestThreshold: curve[42],
        at55Db: curve[25],
        alwaysClose: { precision: 0.564, recall: 1, f1: 0.722 },
        attenuationAuc: est(0.7, 0.681, 0.722),
        estimator: {
          name: "proxkit",
          precision: 0.6,
          recall: 0.9,
          f1: est(0.72, 0.687, 0.752),
          auc: est(0.77, 0.745, 0.796),
        },
      },
    },
    dublinTram: {
      evaluation: {
        dataset: "dublin-tram",
        closeDistanceM: 2,
        results: [tramResult("cwa-v2", 28), tramResult("nhs-v2", 37)],
      },
      detector: {
        closeAttenuationDb: 55.6,
        notifications: 3,
        tpr: 0.1,
        fpr: 0.05,
        balancedAccuracy: 0.525,
        balancedAccuracy95: [0.48, 0.57],
      },
    },
    offsets: {
      pairPlacements: 48,
      spreadBeforeDb: 11.96,
      spreadAfterDb: 2.04,
      spreadLeaveOnePlacementOutDb: 4.12,
      devices: {
        "Apple iPhone 11": { rxOffsetDb: 3.01, txOffsetDb: 15.49 },
        "Google Pixel 4": { rxOffsetDb: 1.09, txOffsetDb: -8.25 },
      },
    },
    rssiVsDistance: [
      ...rssi("herald-edison", ["mount/mount"]),
      ...rssi("body-position", ["hand/hand", "pocket/bag", "bag/bag"]),
    ],
    elapsedMs: 21_067,
  };
}

const headings = (html: string) => [...html.matchAll(/<h2>([^<]*)<\/h2>/g)].map((m) => m[1]);

describe("renderCampaignReport", () => {
  it("has every section in order, one chart per campaign, exp05 distance and the per-sample sweep", async () => {
    const html = await renderCampaignReport(fakeEvaluation());
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(headings(html)).toEqual(SECTIONS);
    const charts = chartsOf(html);
    expect(charts.map((c) => c.id)).toEqual([
      "rssi-vs-distance",
      "rssi-vs-distance",
      "exp05-precision-recall",
      "exp05-precision-recall",
      "per-sample",
    ]);
    for (const chart of charts) {
      expect(chart.html.match(/<svg[\s>]/g)).toHaveLength(1);
      expect(chartMarks(chart.html), chart.id).toBeGreaterThan(5);
    }
    expect(html.match(/<svg[\s>]/g)).toHaveLength(5);
    // 60 points and the fit line; the curves and diamonds; the sweep, its labels and marks.
    expect(chartMarks(charts[0].html)).toBeGreaterThan(60);
    expect(chartMarks(charts[2].html)).toBeGreaterThanOrEqual(2 * 10 + 2);
    expect(chartMarks(charts[4].html)).toBeGreaterThan(71);
    expect(html).toContain("computed in 21.1 s");
    expect(html).toContain("../shared/data/gaen/en-calibration-2020-06-13.csv");
    expect(html).toContain("<h3>Within 2 m for 15 min</h3>");
    expect(html).toContain("<h3>Within 1.5 m for 15 min</h3>");
  });

  it("formats estimates with their intervals, differences and verdicts", async () => {
    const html = await renderCampaignReport(fakeEvaluation());
    expect(html).toContain("<td>0.765 (0.704–0.804)</td>");
    expect(html).toContain("<td>1.04 (0.95–1.15)</td>");
    expect(html).toContain("<td>+0.102 (+0.056 to +0.139)</td>");
    expect(html).toContain("<td>+0.015 (−0.020 to +0.050)</td>");
    expect(html).toContain('<td class="verdict">proxkit higher</td>');
    expect(html).toContain('<td class="verdict">not told apart</td>');
    expect(html).toContain("<td>+0.151 (+0.094 to +0.201)</td>");
    // The default estimator and our detector stand out; the prior-only rows are references.
    expect(html).toContain('<tr class="default"><td>proxkit</td><td>1.04 (0.95–1.15)</td>');
    expect(html.match(/<tr class="reference"><td>\(prior only/g)).toHaveLength(3);
    expect(html).toContain("<td>−8.25</td>");
    expect(html).toContain("from 11.96 dB to 2.04 dB");
  });

  it("is self-contained and escapes every text from the evaluation", async () => {
    const evaluation = fakeEvaluation();
    const evil = `<script>alert("x")</script>&'`;
    const html = await renderCampaignReport({
      ...evaluation,
      dataRoot: evil,
      estimators: {
        ...evaluation.estimators,
        pooled: [{ ...evaluation.estimators.pooled[0], estimator: "<i>ours</i>" }],
      },
    });
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link/i);
    expect(html).not.toMatch(/\ssrc=/i);
    expect(html).not.toMatch(/href="(?!#)/);
    expect(html).not.toMatch(/url\(/i);
    expect(html).not.toContain("<b>two</b>");
    expect(html).toContain("robot rig, &lt;b&gt;two&lt;/b&gt; phones");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;");
    expect(html).not.toContain("<i>ours</i>");
    expect(html).toContain("&lt;i&gt;ours&lt;/i&gt;");
  });

  it("leaves out the sections whose data are absent", async () => {
    const evaluation = fakeEvaluation();
    const html = await renderCampaignReport({
      ...evaluation,
      dataset: "herald-edison",
      exp05: undefined,
      dublinTram: undefined,
      rssiVsDistance: [],
      offsets: { ...evaluation.offsets, devices: {} },
    });
    expect(headings(html)).toEqual([
      "Campaigns",
      "Distance estimators, leave one campaign out",
      "Detector fits",
    ]);
    expect(html).not.toContain("<svg");
    expect(html).not.toContain('href="#dublin-tram"');
  });

  it("reads an evaluation that went through JSON (NaN as null) and shows missing numbers as dashes", async () => {
    const evaluation = fakeEvaluation();
    const nan = est(Number.NaN, Number.NaN, Number.NaN);
    const [first, ...rest] = evaluation.estimators.pooled;
    const withNaN: CampaignEvaluation = {
      ...evaluation,
      estimators: { ...evaluation.estimators, pooled: [{ ...first, maeM: nan }, ...rest] },
    };
    const html = await renderCampaignReport(JSON.parse(JSON.stringify(withNaN)));
    expect(html).toContain('<tr class="default"><td>proxkit</td><td>—</td>');
    expect(headings(html)).toEqual(SECTIONS);
  });
});

describe("formatting", () => {
  it("writes estimates, differences and verdicts", () => {
    expect(formatEstimate(est(0.7646, 0.7043, 0.8041))).toBe("0.765 (0.704–0.804)");
    expect(formatEstimate(est(0.5, Number.NaN, Number.NaN))).toBe("0.500");
    expect(formatEstimate(undefined)).toBe("—");
    expect(formatDifference(est(-0.048, -0.119, 0.019))).toBe("−0.048 (−0.119 to +0.019)");
    expect(differenceVerdict(est(-0.048, -0.119, 0.019), "a", "b")).toBe("not told apart");
    expect(differenceVerdict(est(0.1, 0.05, 0.15), "a", "b")).toBe("a higher");
    expect(differenceVerdict(est(-0.1, -0.15, -0.05), "a", "b")).toBe("b higher");
    expect(differenceVerdict(est(0, Number.NaN, Number.NaN), "a", "b")).toBe("—");
  });
});

describe("writeCampaignReport", () => {
  it("creates the folder and writes report.html whole, returning its path", async () => {
    const dir = join(tempDir(), "nested", "report");
    const evaluation = fakeEvaluation();
    const path = await writeCampaignReport(dir, evaluation);
    expect(path).toBe(join(dir, "report.html"));
    expect(readFileSync(path, "utf8")).toBe(await renderCampaignReport(evaluation));
    expect(readdirSync(dir)).toEqual(["report.html"]);
  });
});

describeWith(CHROMIUM_TOOL)("the campaign report in headless Chromium", () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it("draws every chart with a size and data marks, without errors or requests", async () => {
    const path = await writeCampaignReport(tempDir(), fakeEvaluation());
    expect(existsSync(path)).toBe(true);
    const check = await checkReportPage(browser, path);
    expect(check.errors).toEqual([]);
    expect(check.requests).toEqual([]);
    expect(check.noData).toBe(0);
    expect(check.charts).toHaveLength(5);
    for (const chart of check.charts) {
      expect(chart.width, chart.id).toBeGreaterThan(200);
      expect(chart.height, chart.id).toBeGreaterThan(200);
      expect(chart.marks, chart.id).toBeGreaterThan(5);
    }
  });
});
