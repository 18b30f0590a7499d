/**
 * `report.html`: one self-contained page per simulation job. Charts are Vega-Lite specs
 * rendered to SVG here in Node and put inline, so the page needs no script and no network;
 * the evaluation table is plain HTML. Every text that comes from the input is escaped.
 */
import { writeFileAtomic } from "../../src/io/atomic-write.js";
import {
  MAX_SCATTER_POINTS,
  MIN_MEDIAN_READINGS,
  planTimeline,
  precisionRecallSpec,
  rssiScatterSpec,
  timelineSpec,
} from "./report-charts.js";
import type { ReportDetectorScore, ReportInput, ReportRun } from "./report-input.js";

export type { ReportInput, ReportRun } from "./report-input.js";

type TopLevelSpec = import("vega-lite").TopLevelSpec;

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text made safe for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return String(text).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** "1 h 30 min", "45 min", "20 s". */
export function formatDurationS(durationS: number): string {
  if (!Number.isFinite(durationS)) return String(durationS);
  if (durationS < 60) return `${Math.round(durationS * 10) / 10} s`;
  const minutes = Math.round(durationS / 60);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${m} min`;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

export type Renderer = (spec: TopLevelSpec) => Promise<string>;

/** Vega and Vega-Lite are loaded on first use: commands that never write a report skip them. */
export async function svgRenderer(): Promise<Renderer> {
  const [vega, vegaLite] = await Promise.all([import("vega"), import("vega-lite")]);
  // Inline data only: any attempt to load a URL or file is a bug, not a fetch.
  const loader = vega.loader();
  loader.load = async (uri: string) => {
    throw new Error(`the report's charts must not load ${uri}`);
  };
  return async (spec) => {
    const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), {
      renderer: "none",
      loader,
      logLevel: vega.Error,
    });
    try {
      return await view.toSVG();
    } finally {
      view.finalize();
    }
  };
}

/** The reports' look (the campaign report uses it too). */
export const CSS = `
:root { color-scheme: light; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
  max-width: 980px; margin: 0 auto; padding: 24px 20px 60px; background: #fafafa; }
h1 { font-size: 1.7em; margin: 0 0 4px; }
h2 { font-size: 1.35em; margin: 40px 0 4px; padding-top: 12px; border-top: 2px solid #ddd; }
h3 { font-size: 1.1em; margin: 28px 0 6px; }
.meta { color: #555; margin: 0 0 12px; }
.chart { background: white; border: 1px solid #e3e3e3; border-radius: 6px; padding: 10px;
  overflow-x: auto; }
.chart svg { display: block; max-width: 100%; height: auto; }
.explain { color: #444; font-size: 0.93em; margin: 6px 0 0; }
.no-data { background: #fff8e1; border: 1px solid #f0d98c; border-radius: 6px; padding: 10px 14px;
  color: #5d4a00; }
table { border-collapse: collapse; background: white; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ddd; padding: 5px 10px; text-align: right; }
th { background: #f0f0f0; }
td:first-child, th:first-child { text-align: left; }
tr.best td { font-weight: 600; background: #eef6ee; }
tr.reference td { font-style: italic; color: #555; background: #f7f7f7; }
tr:not(.reference) + tr.reference td { border-top: 2px solid #999; }
table.channel td, table.channel th { text-align: left; }
table.channel td.source { color: #555; font-size: 0.9em; }
nav ul { margin: 4px 0; }
footer { margin-top: 48px; color: #777; font-size: 0.85em; }
`;

const fixed = (digits: number) => (v: number | undefined) =>
  v === undefined || !Number.isFinite(v) ? "—" : v.toFixed(digits);
const percent = (v: number | undefined) =>
  v === undefined || !Number.isFinite(v) ? "—" : `${(v * 100).toFixed(1)} %`;

const COLUMNS: {
  title: string;
  explain: string;
  cell: (d: ReportDetectorScore) => string;
  optional?: (d: ReportDetectorScore) => unknown;
}[] = [
  {
    title: "precision",
    explain: "share of notified pairs that were close",
    cell: (d) => fixed(3)(d.precision),
  },
  {
    title: "recall",
    explain: "share of close pairs that were notified",
    cell: (d) => fixed(3)(d.recall),
  },
  { title: "F1", explain: "harmonic mean of precision and recall", cell: (d) => fixed(3)(d.f1) },
  {
    title: "real F1",
    explain: "F1 of the same rule on the real recording of the same crowd",
    cell: (d) => fixed(3)(d.realF1),
    optional: (d) => d.realF1,
  },
  {
    title: "ΔF1",
    explain: "simulated F1 minus real F1",
    cell: (d) =>
      d.realF1 === undefined ? "" : `${d.f1 - d.realF1 > 0 ? "+" : ""}${fixed(3)(d.f1 - d.realF1)}`,
    optional: (d) => d.realF1,
  },
  {
    title: "duration error (min)",
    explain: "mean absolute error of the estimated contact duration",
    cell: (d) => fixed(1)(d.durationErrorMin),
    optional: (d) => d.durationErrorMin,
  },
  {
    title: "detection",
    explain: "Herald detection: share of close pairs heard at all",
    cell: (d) => percent(d.detection),
    optional: (d) => d.detection,
  },
  {
    title: "continuity",
    explain: "Herald continuity: share of 30 s windows with at least one reading",
    cell: (d) => percent(d.continuity),
    optional: (d) => d.continuity,
  },
];

function evaluationTable(run: ReportRun): string {
  if (run.detectors.length === 0)
    return `<p class="no-data">No data: this run has no detector scores.</p>`;
  const columns = COLUMNS.filter(
    (c) => !c.optional || run.detectors.some((d) => c.optional?.(d) !== undefined),
  );
  const bestF1 = Math.max(...run.detectors.map((d) => (Number.isFinite(d.f1) ? d.f1 : -1)));
  const head = columns
    .map((c) => `<th title="${escapeHtml(c.explain)}">${escapeHtml(c.title)}</th>`)
    .join("");
  const rows = run.detectors
    .map((d) => {
      const best = d.f1 === bestF1 ? ' class="best"' : "";
      const cells = columns.map((c) => `<td>${escapeHtml(c.cell(d))}</td>`).join("");
      return `<tr${best}><td>${escapeHtml(d.name)}</td>${cells}</tr>`;
    })
    .join("\n");
  const explained = columns
    .map((c) => `<b>${escapeHtml(c.title)}</b>: ${escapeHtml(c.explain)}`)
    .join("; ");
  // Reference rows under the detectors, set apart: precision, recall and F1 only.
  const references = (run.references ?? [])
    .map((r) => {
      const cells = columns
        .map((c) =>
          ["precision", "recall", "F1"].includes(c.title)
            ? `<td>${escapeHtml(c.cell(r))}</td>`
            : "<td></td>",
        )
        .join("");
      const threshold = typeof r.thresholdDbm === "number" ? ` at ${r.thresholdDbm} dBm` : "";
      return `<tr class="reference"><td>(${escapeHtml(r.name)})${escapeHtml(threshold)}</td>${cells}</tr>`;
    })
    .join("\n");
  const referencesExplained =
    references === ""
      ? ""
      : " Reference rows in italics, not detectors: (heard) notifies every pair whose receiver matched any of the index case's IDs, ignoring RSSI; (ceiling) notifies when the propagation model's exact mean signal was at or above the threshold shown for the close minutes, the threshold chosen in hindsight: an upper bound for threshold rules on smoothed RSSI over this run's channel (the dashed curve and the cross on the precision-recall chart).";
  const scansExplained = (run.references ?? []).some((r) => r.name === "ceiling-scans")
    ? " (ceiling-scans) is the same rule when the receiver knows that signal only at the seconds it scanned (as its sightings show them), each scan standing for the time since its previous one, at most 5 minutes: what the scanning duty cycle leaves a threshold rule."
    : "";
  const real = run.real;
  const realExplained =
    real === undefined
      ? ""
      : "source" in real
        ? ` Real F1: ${real.source}`
        : ` Real F1 not shown: ${real.missing}`;
  return `<table>
<thead><tr><th>detector</th>${head}</tr></thead>
<tbody>
${rows}${references === "" ? "" : `\n${references}`}
</tbody>
</table>
<p class="explain">The close-contact decision of each detector against the ground truth, per pair of phones. The highest F1 is highlighted. ${explained}.${escapeHtml(referencesExplained + scansExplained + realExplained)}</p>`;
}

/** The channel profile the run's radio used: name, description, key parameters and sources. */
function channelSection(run: ReportRun): string {
  const channel = run.channel;
  if (channel === undefined) return "";
  const name =
    channel.file === undefined ? channel.name : `${channel.file} (profile "${channel.name}")`;
  const rows = channel.parameters
    .map(
      (p) =>
        `<tr><td>${escapeHtml(p.name)}</td><td>${escapeHtml(p.value)}</td><td class="source">${escapeHtml(p.source)}</td></tr>`,
    )
    .join("\n");
  const fitted =
    channel.campaigns.length > 0
      ? `Its sources name the measured campaigns ${channel.campaigns.join(", ")}: the measured side of the chart below comes from them.`
      : "Its sources name no measured campaign, so there is no measured side to compare with.";
  return `<h3>Radio channel: ${escapeHtml(name)}</h3>
${channel.description === "" ? "" : `<p class="meta">${escapeHtml(channel.description)}</p>\n`}<table class="channel">
<thead><tr><th>parameter</th><th>value</th><th>source</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p class="explain">${escapeHtml(
    `The simulated phones' RSSI is drawn from this channel profile (simulate --channel NAME|FILE, or the scenario's "channel"; docs/channel.md explains the model): the mean falls with distance from the reference power at 1 m by the path-loss exponent, less the carry losses at both ends; slow shadowing (σ, changing over the time constant and the decorrelation distance) and fast fading per advertisement spread it; phones hear nothing below the sensitivity. Each value is listed with the source the profile records for it. ${fitted}`,
  )}</p>`;
}

/** The caption's sentence on the measured side of the RSSI chart. */
function measuredExplain(run: ReportRun, hasMeasured: boolean): string {
  const measured = run.rssiVsDistance.measured;
  if (hasMeasured) {
    const source =
      measured !== undefined && "source" in measured
        ? measured.source
        : "The measured readings were given with the run.";
    const herald = run.rssiVsDistance.real?.some((p) => p.campaign === "herald-edison")
      ? " On the Herald rig, touching phones (0 m) read about 20 dB stronger than any far-field model predicts."
      : "";
    return `${source}${herald}`;
  }
  if (measured !== undefined && "missing" in measured)
    return `No measured readings: ${measured.missing}`;
  return "No measured readings were given for this run, so only the simulated side is shown.";
}

interface ChartSection {
  id: string;
  title: string;
  spec: TopLevelSpec | undefined;
  explain: string;
  noData: string;
}

async function chartHtml(section: ChartSection, render: Renderer): Promise<string> {
  const title = `<h3>${escapeHtml(section.title)}</h3>`;
  if (section.spec === undefined)
    return `${title}\n<p class="no-data">No data: ${escapeHtml(section.noData)}</p>`;
  return `${title}
<div class="chart" data-chart="${escapeHtml(section.id)}">${await render(section.spec)}</div>
<p class="explain">${escapeHtml(section.explain)}</p>`;
}

async function runHtml(run: ReportRun, index: number, render: Renderer): Promise<string> {
  const plan = planTimeline(run);
  const hasMeasured = (run.rssiVsDistance.real?.length ?? 0) > 0;
  const sections: ChartSection[] = [
    {
      id: "rssi-vs-distance",
      title: hasMeasured
        ? "RSSI against distance: simulated and measured"
        : "RSSI against distance: simulated",
      spec: rssiScatterSpec(run),
      explain: `Each dot is one received advertisement at its true distance (at most ${MAX_SCATTER_POINTS} simulated and ${MAX_SCATTER_POINTS} measured, evenly sampled); the lines join the median RSSI of every 0.25 m with at least ${MIN_MEDIAN_READINGS} dots, one for the simulated readings and one for the measured ones${
        new Set(run.rssiVsDistance.real?.map((p) => p.campaign)).size > 1
          ? " (all campaigns together)"
          : ""
      }. ${measuredExplain(run, hasMeasured)}`,
      noData: "no RSSI readings were recorded in this run.",
    },
    {
      id: "precision-recall",
      title: "Precision and recall over thresholds",
      spec: precisionRecallSpec(run),
      explain: `One line per detector, tracing precision against recall as its decision threshold moves; the diamonds are the operating points in the table above. Up and to the right is better.${
        run.references?.some((r) => r.name === "ceiling")
          ? " The dashed black line is the RSSI ceiling's threshold on the model's exact mean signal, the cross its best point (a reference, not a detector)."
          : ""
      }`,
      noData: "no precision-recall curves were computed for this run.",
    },
    {
      id: "contact-timeline",
      title: "Contact timeline",
      spec: timelineSpec(run, plan),
      explain: `One row per pair of phones: dark bars are the times the pair was truly close, coloured bars the times each detector judged it close. ${
        plan.allPairs > plan.pairs.length
          ? `Shown: ${plan.pairs.length} of ${plan.allPairs} pairs, those where the detectors and the truth disagree longest first, then the longest true contacts.`
          : `All ${plan.allPairs} pairs, those where the detectors and the truth disagree longest first.`
      }${
        plan.allDetectors > plan.detectors.length
          ? ` Detectors shown: ${plan.detectors.join(", ")} (the first in the table, then the best F1); the other ${plan.allDetectors - plan.detectors.length} are in the table and the precision-recall chart.`
          : ""
      }`,
      noData: "no pair was close or detected in this run.",
    },
  ];
  const charts: string[] = [];
  for (const section of sections) charts.push(await chartHtml(section, render));
  const meta = [
    `scenario <b>${escapeHtml(run.scenario)}</b>`,
    `protocol <b>${escapeHtml(run.protocol)}</b>`,
    `${escapeHtml(String(run.agents))} agents`,
    `${escapeHtml(formatDurationS(run.durationS))} simulated`,
    `seed ${escapeHtml(String(run.seed))}`,
  ].join(" · ");
  return `<section class="run" id="run-${index + 1}">
<h2>${escapeHtml(run.scenario)} (${escapeHtml(run.protocol)})</h2>
<p class="meta">${meta}</p>
<h3>Evaluation</h3>
${evaluationTable(run)}
${channelSection(run)}
${charts.join("\n")}
</section>`;
}

/** The whole report page. */
export async function renderReport(input: ReportInput): Promise<string> {
  const render = await svgRenderer();
  const runs: string[] = [];
  for (const [i, run] of input.runs.entries()) runs.push(await runHtml(run, i, render));
  const nav =
    input.runs.length > 1
      ? `<nav><b>Runs:</b><ul>${input.runs
          .map(
            (r, i) =>
              `<li><a href="#run-${i + 1}">${escapeHtml(r.scenario)} (${escapeHtml(r.protocol)}, ${escapeHtml(String(r.agents))} agents)</a></li>`,
          )
          .join("")}</ul></nav>`
      : "";
  const body =
    input.runs.length === 0
      ? `<p class="no-data">No data: this report has no runs.</p>`
      : runs.join("\n");
  return htmlPage({
    title: input.title,
    css: CSS,
    meta: `Generated ${escapeHtml(input.generatedAt)} by proxkit simulate.`,
    intro:
      "How well each protocol and detection rule finds close contacts (by default: within 2 m for a cumulative 15 minutes or more) in simulated crowds, scored against the simulator's ground truth. Each run has its evaluation table, the radio channel profile it ran on, a check of that channel against the measurements it was fitted on, precision-recall curves and a contact timeline.",
    nav,
    body,
  });
}

/** What a report page is made of: everything but `title` is HTML, put in as it is. */
export interface HtmlPage {
  /** Plain text, escaped here: the page's title and its heading. */
  title: string;
  css: string;
  /** The line under the heading (what was run, when, from what). */
  meta: string;
  /** The paragraph that says what the report shows. */
  intro: string;
  /** The table of contents, or "" for none. */
  nav: string;
  body: string;
}

/**
 * A whole report page (this report's and the campaign report's): the head with its styles, a
 * header with the title, meta line, intro and nav, the body in `<main>`, and the footer.
 */
export function htmlPage(page: HtmlPage): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
<style>${page.css}</style>
</head>
<body>
<header>
<h1>${escapeHtml(page.title)}</h1>
<p class="meta">${page.meta}</p>
<p>${page.intro}</p>
${page.nav}
</header>
<main>
${page.body}
</main>
<footer>Charts made with Vega-Lite and rendered to SVG when the report was written: this page runs no scripts and loads nothing from the network.</footer>
</body>
</html>
`;
}

/** Renders the report and writes it to `path` atomically. */
export async function writeReport(path: string, input: ReportInput): Promise<void> {
  const html = await renderReport(input);
  writeFileAtomic(path, html, { what: "report" });
}
