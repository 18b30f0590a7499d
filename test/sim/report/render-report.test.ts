import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { reportChannel } from "../../../sim/evaluation/report-run.js";
import {
  downsampleEvenly,
  loadMeasuredRssiVsDistance,
  type MeasuredRssiVsDistance,
} from "../../../sim/report/measured-rssi-vs-distance.js";
import {
  escapeHtml,
  formatDurationS,
  renderReport,
  writeReport,
} from "../../../sim/report/render-report.js";
import {
  MAX_TIMELINE_DETECTORS,
  MAX_TIMELINE_PAIRS,
  selectTimelineDetectors,
  selectTimelinePairs,
} from "../../../sim/report/report-charts.js";
import type { ReportInput, ReportRun } from "../../../sim/report/report-input.js";
import { CHANNEL_CAMPAIGNS } from "../../../sim/world/channel-data.js";
import { CHANNEL_PROFILES } from "../../../sim/world/channel-profiles.js";
import type { ChannelProfile } from "../../../sim/world/channel-v2.js";
import { ConfigError } from "../../../src/core/errors.js";
import { defaultDataRoot } from "../../../src/io/data-root.js";
import { fakeReportInput } from "./fake-report-input.js";
import { chartMarks, chartsOf } from "./report-html.js";
import { itWith, needData } from "../../support/requirements.js";

const DATA_ROOT = defaultDataRoot();
const REAL_DATA = needData(
  ...CHANNEL_CAMPAIGNS.map((c) => (c === "dp3t-exp05" ? "dp3t-epfl/exp05-epfl-soldiers" : c)),
);

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function emptyRun(overrides: Partial<ReportRun> = {}): ReportRun {
  return {
    scenario: "classroom",
    protocol: "gaen",
    agents: 0,
    durationS: 3600,
    seed: 1,
    detectors: [],
    prCurves: [],
    rssiVsDistance: { simulated: [] },
    timeline: [],
    ...overrides,
  };
}

describe("renderReport", () => {
  it("draws three charts per run, each one SVG with marks, and the evaluation table", async () => {
    const input = fakeReportInput();
    const html = await renderReport(input);
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    const charts = chartsOf(html);
    expect(charts.map((c) => c.id)).toEqual([
      "rssi-vs-distance",
      "precision-recall",
      "contact-timeline",
      "rssi-vs-distance",
      "precision-recall",
      "contact-timeline",
    ]);
    for (const chart of charts) {
      expect(chart.html.match(/<svg[\s>]/g)).toHaveLength(1);
      expect(chart.html).toMatch(/<svg[^>]* width="[\d.]+" height="[\d.]+"/);
    }
    // Scatter: capped points of both sources plus the median lines; PR: lines, points and
    // diamonds; timeline: one bar per interval of the 30 pairs shown.
    expect(chartMarks(charts[0].html)).toBeGreaterThan(3000);
    expect(chartMarks(charts[1].html)).toBeGreaterThan(4 * 15);
    expect(chartMarks(charts[2].html)).toBeGreaterThan(30);
    expect(html.match(/<table>/g)).toHaveLength(2);
    for (const d of input.runs[0].detectors) expect(html).toContain(`<td>${d.name}</td>`);
    expect(html).toContain(`<tr class="best"><td>proxkit</td>`);
    expect(html).toContain("1 h simulated");
  });

  it("is self-contained: no scripts, no external resources", async () => {
    const html = await renderReport(fakeReportInput({ scenarios: ["tram"] }));
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link/i);
    expect(html).not.toMatch(/\ssrc=/i);
    expect(html).not.toMatch(/href="(?!#)/);
    expect(html).not.toMatch(/url\(/i);
  });

  it("escapes every text taken from the input", async () => {
    const evil = `<script>alert("x")</script>&'`;
    const input = fakeReportInput({
      scenarios: [evil],
      detectors: [`<img src=x onerror=alert(1)>`, "ours"],
      pairs: 10,
    });
    input.title = evil;
    input.generatedAt = "<b>now</b>";
    input.runs[0].protocol = "<i>gaen</i>";
    for (const t of input.runs[0].timeline) t.pair = `<u>${t.pair}</u>`;
    const html = await renderReport(input);
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<b>now</b>");
    expect(html).not.toContain("<i>gaen</i>");
    expect(html).not.toContain("<u>");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(escapeHtml(`a<b>&"c'`)).toBe("a&lt;b&gt;&amp;&quot;c&#39;");
  });

  it("says 'no data' instead of drawing empty charts", async () => {
    const html = await renderReport({
      title: "empty",
      generatedAt: "2026-11-27T00:00:00Z",
      runs: [emptyRun()],
    });
    expect(html).not.toContain("<svg");
    expect(html.match(/class="no-data"/g)).toHaveLength(4); // table + three charts
    expect(html).toContain("no RSSI readings");
    expect(html).toContain("no precision-recall curves");
    expect(html).toContain("no pair was close or detected");
    const none = await renderReport({ title: "none", generatedAt: "", runs: [] });
    expect(none).toContain("this report has no runs");
  });

  it("draws a chart from whatever part of it has data", async () => {
    const html = await renderReport({
      title: "partial",
      generatedAt: "",
      runs: [
        emptyRun({
          rssiVsDistance: { simulated: [], real: [{ distanceM: 1, rssiDbm: -70 }] },
          prCurves: [{ detector: "a", points: [{ threshold: 1, precision: 0.5, recall: 0.5 }] }],
          timeline: [{ pair: "p", startS: 10, endS: 10, kind: "detected", detector: "a" }],
        }),
      ],
    });
    const charts = chartsOf(html);
    expect(charts).toHaveLength(3);
    for (const chart of charts) expect(chartMarks(chart.html)).toBeGreaterThan(0);
    expect(html).toContain("table"); // the empty-table note still appears
    expect(html).toContain("no detector scores");
  });

  it("draws sane charts from odd numbers (NaN, zero duration) without failing", async () => {
    const html = await renderReport({
      title: "odd",
      generatedAt: "",
      runs: [
        emptyRun({
          durationS: 0,
          detectors: [{ name: "a", precision: Number.NaN, recall: 1, f1: Number.NaN }],
          rssiVsDistance: {
            simulated: [
              { distanceM: Number.NaN, rssiDbm: -70 },
              { distanceM: 2, rssiDbm: -80 },
            ],
          },
          prCurves: [{ detector: "a", points: [{ threshold: 1, precision: 1, recall: 0 }] }],
          timeline: [
            { pair: "p", startS: 0, endS: 0, kind: "truth-close" },
            { pair: "p", startS: 5, endS: 1, kind: "detected", detector: "a" },
          ],
        }),
      ],
    });
    expect(html).not.toContain("NaN</text>");
    expect(html).toContain("<td>—</td>");
    for (const chart of chartsOf(html)) expect(chartMarks(chart.html)).toBeGreaterThan(0);
  });

  it("is deterministic: the same input gives the same page", async () => {
    const a = await renderReport(fakeReportInput({ seed: 7 }));
    const b = await renderReport(fakeReportInput({ seed: 7 }));
    expect(a).toBe(b);
    expect(await renderReport(fakeReportInput({ seed: 8 }))).not.toBe(a);
  });
});

describe("writeReport", () => {
  it("writes the rendered page, replacing an older one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "proxkit-report-"));
    dirs.push(dir);
    const path = join(dir, "report.html");
    const input = fakeReportInput({ scenarios: ["bus"], pairs: 8, rssiPoints: 100 });
    await writeReport(path, { ...input, title: "old" });
    await writeReport(path, input);
    expect(readFileSync(path, "utf8")).toBe(await renderReport(input));
  });

  it("fails with a ConfigError naming a missing folder", async () => {
    await expect(writeReport("/nonexistent/dir/report.html", fakeReportInput())).rejects.toThrow(
      ConfigError,
    );
  });
});

describe("timeline pairs", () => {
  it("puts the longest disagreements first, then the longest true contacts, at most 30", () => {
    const timeline: ReportRun["timeline"] = [
      { pair: "agree-long", startS: 0, endS: 1000, kind: "truth-close" },
      { pair: "agree-long", startS: 0, endS: 1000, kind: "detected", detector: "d" },
      { pair: "agree-short", startS: 0, endS: 100, kind: "truth-close" },
      { pair: "agree-short", startS: 0, endS: 100, kind: "detected", detector: "d" },
      { pair: "missed", startS: 0, endS: 500, kind: "truth-close" },
      { pair: "false", startS: 0, endS: 300, kind: "detected", detector: "d" },
      { pair: "shifted", startS: 0, endS: 600, kind: "truth-close" },
      { pair: "shifted", startS: 500, endS: 1100, kind: "detected", detector: "d" },
    ];
    // shifted: 500 + 500 apart; missed 500 (tie broken by the truth's length); false 300.
    expect(selectTimelinePairs(timeline)).toEqual([
      "shifted",
      "missed",
      "false",
      "agree-long",
      "agree-short",
    ]);
    expect(selectTimelinePairs(timeline, 2)).toEqual(["shifted", "missed"]);
    const many = fakeReportInput({ pairs: 200 }).runs[0].timeline;
    expect(new Set(many.map((t) => t.pair)).size).toBeGreaterThan(MAX_TIMELINE_PAIRS);
    expect(selectTimelinePairs(many)).toHaveLength(MAX_TIMELINE_PAIRS);
  });

  it("shows our detector and the best others, at most four, when there are many", async () => {
    const names = ["ours", "p1", "p2", "p3", "p4", "p5", "p6", "p7"];
    const input = fakeReportInput({ scenarios: ["tram"], detectors: names, pairs: 40 });
    const run = input.runs[0];
    const f1 = [0.5, 0.6, 0.9, 0.7, 0.8, 0.1, 0.2, 0.3];
    run.detectors.forEach((d, i) => {
      d.f1 = f1[i];
    });
    expect(selectTimelineDetectors(run)).toEqual(["ours", "p2", "p4", "p3"]);
    expect(MAX_TIMELINE_DETECTORS).toBe(4);
    const html = await renderReport(input);
    const timeline = chartsOf(html)[2].html;
    for (const shown of ["ours", "p2", "p4", "p3"]) expect(timeline).toContain(`>${shown}</text>`);
    for (const hidden of ["p1", "p5", "p6", "p7"])
      expect(timeline).not.toContain(`>${hidden}</text>`);
    expect(html).toContain("Detectors shown: ours, p2, p4, p3");
    expect(html).toContain("the other 4 are in the table");
    // All eight are still in the precision-recall chart.
    for (const name of names) expect(chartsOf(html)[1].html).toContain(`>${name}</text>`);
  });

  it("draws only the selected pairs", async () => {
    const input: ReportInput = fakeReportInput({ scenarios: ["office"], pairs: 200 });
    const html = await renderReport(input);
    const timeline = chartsOf(html)[2].html;
    const shown = selectTimelinePairs(input.runs[0].timeline);
    const hidden = [...new Set(input.runs[0].timeline.map((t) => t.pair))].filter(
      (p) => !shown.includes(p),
    );
    for (const pair of shown) expect(timeline).toContain(`>${pair}</text>`);
    for (const pair of hidden) expect(timeline).not.toContain(`>${pair}</text>`);
    expect(html).toMatch(/Shown: 30 of \d+ pairs/);
  });
});

describe("helpers", () => {
  it("down-samples evenly and deterministically", () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    const sample = downsampleEvenly(items, 10);
    expect(sample).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(downsampleEvenly(items, 2000)).toEqual(items);
    expect(downsampleEvenly(items, 0)).toEqual([]);
  });

  it("formats durations", () => {
    expect(formatDurationS(3600)).toBe("1 h");
    expect(formatDurationS(5400)).toBe("1 h 30 min");
    expect(formatDurationS(900)).toBe("15 min");
    expect(formatDurationS(20)).toBe("20 s");
  });

  it("builds the same fake input from the same options", () => {
    expect(fakeReportInput({ seed: 3 })).toEqual(fakeReportInput({ seed: 3 }));
  });
});

/** A run of the fake input on `channel` with `measured` as its measured side. */
function runOn(channel: ReportRun["channel"], measured: MeasuredRssiVsDistance): ReportInput {
  const input = fakeReportInput({ scenarios: ["classroom"], real: false, rssiPoints: 500 });
  const run = input.runs[0];
  run.channel = channel;
  if ("points" in measured) {
    run.rssiVsDistance.real = measured.points;
    run.rssiVsDistance.measured = { source: measured.source };
  } else run.rssiVsDistance.measured = { missing: measured.missing };
  return input;
}

describe("the channel and its measured side", () => {
  it("lists the profile's name, description, parameters and sources", async () => {
    const html = await renderReport(
      runOn(reportChannel(CHANNEL_PROFILES.v2, { environment: "office" }), {
        missing: "x",
      }),
    );
    // v2 is refitted now and then: the expectations follow its file.
    const v2 = CHANNEL_PROFILES.v2;
    expect(html).toContain("<h3>Radio channel: v2</h3>");
    expect(html).toContain(escapeHtml(v2.description));
    expect(html).toContain('<table class="channel">');
    expect(html).toContain(
      `<tr><td>reference power at 1 m</td><td>${v2.refPowerDbm.value} dBm (${Math.round((v2.refPowerDbm.value - 19) * 100) / 100} dBm for the simulator&#39;s nominal phones)</td>`,
    );
    expect(html).toContain(`<td>path-loss exponent</td><td>${v2.exponentNear.value} `);
    expect(html).toContain(`<td>shadowing σ</td><td>${v2.shadowingSigmaDb.value} dB</td>`);
    expect(html).toContain(
      `<td>shadowing time constant</td><td>${v2.shadowingTauS.value} s</td><td class="source">${escapeHtml(v2.shadowingTauS.source)}</td>`,
    );
    expect(html).toContain("<td>fast fading</td><td>Gaussian, σ ");
    expect(html).toContain("<td>this run&#39;s environment</td><td>office (0 dB)</td>");
    expect(html).toContain(
      "Its sources name the measured campaigns herald-edison, dp3t-exp05, body-position, mit-matrix, pi-multichannel",
    );
    const herald = await renderReport(
      runOn(reportChannel(CHANNEL_PROFILES["herald-only"]), { missing: "x" }),
    );
    expect(herald).toContain("<h3>Radio channel: herald-only</h3>");
    expect(herald).toContain("<td>path-loss exponent</td><td>0.48 up to 3 m</td>");
    expect(herald).toContain("<td>fast fading</td><td>Rician, K 15.7 dB</td>");
    expect(herald).toContain(
      "<td>carry losses</td><td>mount 0, table 0, hand 0, pocket 5, bag 8 dB</td>",
    );
    expect(herald).toContain("Its sources name the measured campaigns herald-edison:");
    // Runs built without a channel show no section.
    expect(await renderReport(fakeReportInput())).not.toContain("Radio channel");
  });

  it("names a profile file and says when its sources name no campaign", async () => {
    // A user's file: its own sources (none naming a campaign), one value without a source.
    const mine = {
      ...Object.fromEntries(
        Object.entries(CHANNEL_PROFILES["herald-only"]).map(([k, v]) => [
          k,
          typeof v === "object" ? { value: (v as { value: unknown }).value, source: "a guess" } : v,
        ]),
      ),
      name: "mine",
      description: "<b>hand-made</b>",
      shadowingSigmaDb: { value: 3 },
    } as unknown as ChannelProfile;
    const measured = loadMeasuredRssiVsDistance(mine, { dataRoot: DATA_ROOT });
    const html = await renderReport(runOn(reportChannel(mine, { file: "mine.json" }), measured));
    expect(html).toContain("<h3>Radio channel: mine.json (profile &quot;mine&quot;)</h3>");
    expect(html).toContain("&lt;b&gt;hand-made&lt;/b&gt;");
    expect(html).toContain('<td>shadowing σ</td><td>3 dB</td><td class="source">not recorded</td>');
    expect(html).toContain("Its sources name no measured campaign");
    expect(html).toContain("<h3>RSSI against distance: simulated</h3>");
    expect(html).toContain("No measured readings: the channel profile &quot;mine&quot; names none");
  });

  it("renders without the data folder, saying what is missing", async () => {
    const measured = loadMeasuredRssiVsDistance(CHANNEL_PROFILES.v2, {
      dataRoot: "/nonexistent/data",
    });
    const html = await renderReport(runOn(reportChannel(CHANNEL_PROFILES.v2), measured));
    expect(html).toContain("<h3>RSSI against distance: simulated</h3>");
    expect(html).toContain(
      "No measured readings: the data folder /nonexistent/data does not hold herald-edison, dp3t-exp05, body-position, mit-matrix, pi-multichannel",
    );
    const charts = chartsOf(html);
    expect(charts[0].id).toBe("rssi-vs-distance");
    expect(chartMarks(charts[0].html)).toBeGreaterThan(400);
    expect(charts[0].html).not.toContain("measured");
  });

  itWith(REAL_DATA)(
    "draws the campaigns each profile was fitted on: the Herald rig for herald-only, all five for v2",
    async () => {
      const cacheDir = mkdtempSync(join(tmpdir(), "proxkit-report-measured-"));
      dirs.push(cacheDir);
      const options = { dataRoot: DATA_ROOT, maxPoints: 1000, cacheDir };
      const herald = loadMeasuredRssiVsDistance(CHANNEL_PROFILES["herald-only"], options);
      const heraldHtml = await renderReport(
        runOn(reportChannel(CHANNEL_PROFILES["herald-only"]), herald),
      );
      expect(heraldHtml).toContain("<h3>RSSI against distance: simulated and measured</h3>");
      expect(heraldHtml).toContain(
        "The measured readings come from the campaigns the channel profile &quot;herald-only&quot; was fitted on",
      );
      expect(heraldHtml).toContain("herald-edison (1,000 of ");
      const heraldChart = chartsOf(heraldHtml)[0].html;
      expect(heraldChart).toContain(">measured: herald-edison</text>");
      expect(heraldChart).not.toContain("mit-matrix");

      const v2 = loadMeasuredRssiVsDistance(CHANNEL_PROFILES.v2, options);
      const html = await renderReport(runOn(reportChannel(CHANNEL_PROFILES.v2), v2));
      for (const c of CHANNEL_CAMPAIGNS) expect(html).toContain(`${c} (200 of `);
      expect(html).toContain("the device terms of the campaign&#39;s phones");
      const chart = chartsOf(html)[0].html;
      for (const c of CHANNEL_CAMPAIGNS) expect(chart).toContain(`>measured: ${c}</text>`);
      expect(chart).toContain(">measured median, all campaigns</text>");
      expect(chart).toContain(">simulated</text>");
      // 500 simulated and 1000 measured dots, plus the two median lines.
      expect(chartMarks(chart)).toBeGreaterThan(1500);
      expect(await renderReport(runOn(reportChannel(CHANNEL_PROFILES.v2), v2))).toBe(html);
    },
    60_000,
  );
});
