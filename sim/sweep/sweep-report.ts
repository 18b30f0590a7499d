/**
 * The sweep's report page: each rule's F1 against each swept parameter, with a 95 % interval
 * over seeds. For a rule and a parameter value, each seed's F1 is first averaged over the other
 * swept parameters; the point is the mean of those per-seed values and the interval Student's t
 * over them (none with a single seed). Charts are Vega-Lite rendered to inline SVG, as in the
 * run report.
 */
import type { TopLevelSpec } from "vega-lite";
import { writeFileAtomic } from "../../src/io/atomic-write.js";
import { CSS, escapeHtml, htmlPage, svgRenderer } from "../report/render-report.js";
import { CHART_BASE } from "../report/report-charts.js";
import type { SweepResultRow } from "./result-rows.js";

/** The report's axes: a grid parameter and the row field holding its value. */
const PARAMETER_FIELDS: Readonly<Record<string, keyof SweepResultRow>> = {
  scenario: "scenario",
  protocol: "protocol",
  agents: "agents",
  durationS: "durationS",
  channel: "channel",
  indexShare: "indexShare",
  closeDistanceM: "closeDistanceM",
  closeMinutes: "closeMinutes",
  presets: "presetSet",
};

/** Two-sided 95 % Student t quantiles for 1..30 degrees of freedom (the normal's beyond). */
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];

export interface SeedInterval {
  readonly mean: number;
  readonly low: number | undefined;
  readonly high: number | undefined;
  readonly seeds: number;
}

/** The mean of per-seed values and its 95 % t interval (undefined with fewer than two seeds). */
export function seedInterval(values: readonly number[]): SeedInterval {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { mean, low: undefined, high: undefined, seeds: n };
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  const half = (T95[n - 2] ?? 1.96) * Math.sqrt(variance / n);
  return { mean, low: mean - half, high: mean + half, seeds: n };
}

export interface RuleSummary {
  readonly rule: string;
  readonly kind: string;
  /** The parameter's value, as text, and its order in the grid. */
  readonly value: string;
  readonly order: number;
  readonly f1: SeedInterval;
}

/** Each rule's F1 per value of `field` (all rows together when `field` is undefined). */
export function summariseBy(
  rows: readonly SweepResultRow[],
  field: keyof SweepResultRow | undefined,
): RuleSummary[] {
  const values: string[] = [];
  const groups = new Map<
    string,
    { rule: string; kind: string; value: string; bySeed: Map<number, number[]> }
  >();
  for (const row of rows) {
    const value = field === undefined ? "all runs" : String(row[field]);
    if (!values.includes(value)) values.push(value);
    const key = `${row.rule}\u0000${value}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { rule: row.rule, kind: row.kind, value, bySeed: new Map() };
      groups.set(key, group);
    }
    const seedF1 = group.bySeed.get(row.seed) ?? [];
    seedF1.push(row.f1);
    group.bySeed.set(row.seed, seedF1);
  }
  return [...groups.values()].map((g) => ({
    rule: g.rule,
    kind: g.kind,
    value: g.value,
    order: values.indexOf(g.value),
    f1: seedInterval([...g.bySeed.values()].map((f) => f.reduce((s, v) => s + v, 0) / f.length)),
  }));
}

const f3 = (v: number | undefined) => (v === undefined ? "—" : v.toFixed(3));

function chartSpec(summary: readonly RuleSummary[], title: string): TopLevelSpec {
  const points = summary.map((s) => ({
    rule: s.kind === "reference" ? `(${s.rule})` : s.rule,
    value: s.value,
    order: s.order,
    f1: s.f1.mean,
    low: s.f1.low ?? s.f1.mean,
    high: s.f1.high ?? s.f1.mean,
  }));
  const rules = [...new Set(points.map((p) => p.rule))];
  const values = [...new Set(summary.map((s) => s.value))];
  const color = {
    field: "rule",
    type: "nominal" as const,
    title: "rule",
    scale: { domain: rules, scheme: "tableau20" },
  };
  // Over all runs: a rule per column. Per parameter value: the rules side by side in each column.
  const overall = values.length === 1 && title === "rule";
  const encoding = overall
    ? {
        x: {
          field: "rule",
          type: "nominal" as const,
          title: "rule",
          sort: rules,
          axis: { labelAngle: -40 },
        },
        color,
      }
    : {
        x: {
          field: "value",
          type: "nominal" as const,
          title,
          sort: values,
          axis: { labelAngle: 0 },
        },
        xOffset: { field: "rule", sort: rules },
        color,
      };
  return {
    ...CHART_BASE,
    width: overall
      ? Math.max(320, rules.length * 34)
      : Math.max(320, values.length * rules.length * 12),
    height: 300,
    data: { values: points },
    encoding,
    layer: [
      {
        mark: { type: "rule", strokeWidth: 1.5 },
        encoding: {
          y: { field: "low", type: "quantitative", title: "F1", scale: { domain: [0, 1] } },
          y2: { field: "high" },
        },
      },
      {
        mark: { type: "point", filled: true, size: 45, opacity: 1 },
        encoding: {
          y: { field: "f1", type: "quantitative", title: "F1", scale: { domain: [0, 1] } },
          tooltip: [
            { field: "rule" },
            { field: "value", title },
            { field: "f1", format: ".3f" },
            { field: "low", format: ".3f" },
            { field: "high", format: ".3f" },
          ],
        },
      },
    ],
  } as TopLevelSpec;
}

function summaryTable(summary: readonly RuleSummary[], title: string): string {
  const values = [...new Set(summary.map((s) => s.value))];
  const rules = [...new Set(summary.map((s) => `${s.kind}\u0000${s.rule}`))];
  const cell = (rule: string, value: string) => {
    const s = summary.find((x) => `${x.kind}\u0000${x.rule}` === rule && x.value === value);
    if (s === undefined) return "<td>—</td>";
    const interval =
      s.f1.low === undefined ? "" : ` <small>[${f3(s.f1.low)}, ${f3(s.f1.high)}]</small>`;
    return `<td>${f3(s.f1.mean)}${interval}</td>`;
  };
  const corner = title === "rule" ? "rule" : `rule \\ ${escapeHtml(title)}`;
  const head = `<tr><th>${corner}</th>${values.map((v) => `<th>F1, ${escapeHtml(title === "rule" ? v : `${title} ${v}`)}</th>`).join("")}</tr>`;
  const body = rules
    .map((key) => {
      const [kind, rule] = key.split("\u0000");
      const name = kind === "reference" ? `(${rule})` : rule;
      return `<tr${kind === "reference" ? ' class="reference"' : ""}><td>${escapeHtml(name)}</td>${values.map((v) => cell(key, v)).join("")}</tr>`;
    })
    .join("\n");
  return `<table>${head}\n${body}</table>`;
}

export interface SweepReportInput {
  readonly title: string;
  readonly generatedAt: string;
  /** The grid's swept parameters, in axis order (seed included when it has several values). */
  readonly swept: readonly string[];
  readonly runs: number;
  readonly rows: readonly SweepResultRow[];
}

export async function renderSweepReport(input: SweepReportInput): Promise<string> {
  const render = await svgRenderer();
  const seeds = new Set(input.rows.map((r) => r.seed)).size;
  const axes = input.swept.filter((p) => p in PARAMETER_FIELDS);
  const sections: string[] = [];
  const section = async (name: string, field: keyof SweepResultRow | undefined) => {
    const summary = summariseBy(input.rows, field);
    const svg = await render(chartSpec(summary, name));
    sections.push(`<section id="by-${escapeHtml(name)}">
<h2>F1 by ${escapeHtml(name)}</h2>
<div class="chart">${svg}</div>
<p class="explain">Each rule's F1, the mean over ${seeds} seed${seeds === 1 ? "" : "s"} of the F1 averaged over the other swept parameters${seeds > 1 ? ", with its 95 % interval over seeds (Student's t)" : ""}. Reference rows are in brackets: they are bounds and baselines, not detectors.</p>
${summaryTable(summary, name)}
</section>`);
  };
  if (input.rows.length > 0) {
    await section("rule", undefined);
    for (const axis of axes) await section(axis, PARAMETER_FIELDS[axis]);
  }
  const nav =
    sections.length > 1
      ? `<nav><b>Sections:</b><ul>${["rule", ...axes].map((a) => `<li><a href="#by-${escapeHtml(a)}">F1 by ${escapeHtml(a)}</a></li>`).join("")}</ul></nav>`
      : "";
  return htmlPage({
    title: input.title,
    css: CSS,
    meta: `Generated ${escapeHtml(input.generatedAt)} by proxkit sweep: ${input.runs} runs, ${seeds} seed${seeds === 1 ? "" : "s"}; swept: ${escapeHtml(input.swept.join(", ") || "nothing")}. Every row is in results.parquet beside this page.`,
    intro:
      "How each detection rule's F1 (close contact: within the close distance for the close minutes) moves with each parameter the sweep varied, scored against the simulator's ground truth.",
    nav,
    body:
      input.rows.length === 0
        ? `<p class="no-data">No data: this sweep has no finished runs.</p>`
        : sections.join("\n"),
  });
}

export async function writeSweepReport(path: string, input: SweepReportInput): Promise<void> {
  writeFileAtomic(path, await renderSweepReport(input), { what: "report" });
}
