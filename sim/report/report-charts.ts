/**
 * The report's charts as Vega-Lite specifications (pure data in, spec out), and the choices
 * behind them: which points are drawn, which pairs the timeline shows, which colour each
 * detector gets (the same in every chart of a run).
 */
import type { TopLevelSpec } from "vega-lite";
import { downsampleEvenly } from "./measured-rssi-vs-distance.js";
import type { ReportRun } from "./report-input.js";

/** Points per source in the RSSI scatter (more only slows the page down). */
export const MAX_SCATTER_POINTS = 4000;
/** Dots a 0.25 m bin needs for its median to be drawn. */
export const MIN_MEDIAN_READINGS = 5;
/** Pairs in the contact timeline. */
export const MAX_TIMELINE_PAIRS = 30;
/** Detectors in the contact timeline (more make its rows unreadable). */
export const MAX_TIMELINE_DETECTORS = 4;

const WIDTH = 640;
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
/** Vega's "tableau10" scheme, so that colours can be assigned by position. */
const PALETTE = [
  "#4c78a8",
  "#f58518",
  "#e45756",
  "#72b7b2",
  "#54a24b",
  "#eeca3b",
  "#b279a2",
  "#ff9da6",
  "#9d755d",
  "#bab0ac",
];
const TRUTH_COLOUR = "#333333";
export const TRUTH_SERIES = "truly close (ground truth)";
const SIMULATED = "simulated";
const MEASURED = "measured";
/** The median line of several measured campaigns together. */
const MEASURED_POOLED = "measured median, all campaigns";
const POOLED_COLOUR = "#333333";

/** The settings every chart of both reports (this one and the campaign report) starts from. */
export const CHART_BASE = {
  $schema: "https://vega.github.io/schema/vega-lite/v5.json",
  background: "white",
  config: {
    font: FONT,
    axis: { labelFontSize: 11, titleFontSize: 12 },
    legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  },
} as const;

/** Detector names in table order, then any that only the curves or the timeline name. */
export function detectorNames(run: ReportRun): string[] {
  const names: string[] = [];
  const add = (name: string) => {
    if (!names.includes(name)) names.push(name);
  };
  for (const d of run.detectors) add(d.name);
  for (const c of run.prCurves) add(c.detector);
  for (const t of run.timeline) if (t.kind === "detected") add(t.detector ?? "detected");
  return names;
}

function colourOf(names: readonly string[], name: string): string {
  return PALETTE[Math.max(0, names.indexOf(name)) % PALETTE.length];
}

const finite = (...values: number[]) => values.every(Number.isFinite);

/**
 * Simulated and measured RSSI against true distance, the measured dots coloured by campaign,
 * with the median per 0.25 m of the simulated readings and of the measured ones (all campaigns
 * together).
 */
export function rssiScatterSpec(run: ReportRun): TopLevelSpec | undefined {
  const simulated = downsampleEvenly(
    run.rssiVsDistance.simulated.filter((p) => finite(p.distanceM, p.rssiDbm)),
    MAX_SCATTER_POINTS,
  );
  // In campaign order, so that even sampling keeps each campaign's share.
  const measured = downsampleEvenly(
    (run.rssiVsDistance.real ?? []).filter((p) => finite(p.distanceM, p.rssiDbm)),
    MAX_SCATTER_POINTS,
  );
  if (simulated.length + measured.length === 0) return undefined;
  const seriesOf = (campaign: string | undefined) =>
    campaign === undefined ? MEASURED : `${MEASURED}: ${campaign}`;
  const series = [...new Set(measured.map((p) => seriesOf(p.campaign)))];
  const pooled = series.length > 1 ? MEASURED_POOLED : (series[0] ?? MEASURED);
  const values = [
    ...simulated.map((p) => ({
      distanceM: p.distanceM,
      rssiDbm: p.rssiDbm,
      source: SIMULATED,
      side: SIMULATED,
    })),
    ...measured.map((p) => ({
      distanceM: p.distanceM,
      rssiDbm: p.rssiDbm,
      source: seriesOf(p.campaign),
      side: pooled,
    })),
  ];
  const domain = [SIMULATED, ...series, ...(series.length > 1 ? [MEASURED_POOLED] : [])];
  const range = [
    PALETTE[0],
    ...series.map((_, i) => PALETTE[(i + 1) % PALETTE.length]),
    ...(series.length > 1 ? [POOLED_COLOUR] : []),
  ];
  const colour = (field: string) =>
    ({
      field,
      type: "nominal",
      title: null,
      scale: { domain, range },
      legend: { orient: "top", symbolOpacity: 1, columns: 3, labelLimit: 320 },
    }) as const;
  const x = { field: "distanceM", type: "quantitative", title: "true distance (m)" } as const;
  return {
    ...CHART_BASE,
    width: WIDTH,
    height: 340,
    data: { values },
    layer: [
      {
        mark: { type: "point", filled: true, size: 14, opacity: 0.3, aria: false },
        encoding: {
          x,
          y: {
            field: "rssiDbm",
            type: "quantitative",
            title: "RSSI (dBm)",
            scale: { zero: false },
          },
          color: colour("source"),
        },
      },
      {
        transform: [
          { calculate: "round(datum.distanceM * 4) / 4", as: "binM" },
          {
            aggregate: [
              { op: "median", field: "rssiDbm", as: "medianDbm" },
              { op: "count", as: "readings" },
            ],
            groupby: ["binM", "side"],
          },
          // A median of a handful of dots (the sparse far tail) only zigzags.
          { filter: `datum.readings >= ${MIN_MEDIAN_READINGS}` },
        ],
        mark: { type: "line", strokeWidth: 2.5, point: { size: 24, filled: true }, aria: false },
        encoding: {
          x: { ...x, field: "binM" },
          y: { field: "medianDbm", type: "quantitative" },
          color: colour("side"),
        },
      },
    ],
  };
}

/** A quantitative axis over [0, 1], for precision and recall. */
export const unitAxis = (field: string, title: string) => ({
  field,
  type: "quantitative" as const,
  title,
  scale: { domain: [0, 1] },
});

/** The colour encoding by detector, the legend on the right: `colours` is the scale's scheme or range. */
export function detectorColour<Colours extends object>(names: string[], colours: Colours) {
  return {
    field: "detector",
    type: "nominal",
    title: "detector",
    scale: { domain: names, ...colours },
    legend: { orient: "right" },
  } as const;
}

/** What a precision-recall chart draws; `curves` and `operating` rows have `precision` and `recall`. */
export interface PrecisionRecallParts<Colour, Extra> {
  /** The curves' points, a line per series of `colour`. */
  curves: object[];
  /** The field that orders each curve's points. */
  order: string;
  /** Each series' operating point, drawn as a diamond. */
  operating: object[];
  colour: Colour;
  /** The axis titles. */
  titles: { recall: string; precision: string };
  /** Layers drawn on top. */
  extra?: Extra[];
}

/** A precision-recall chart (both reports'): the curves, the operating points, then any `extra`. */
export function precisionRecallChart<Colour, Extra = never>(
  parts: PrecisionRecallParts<Colour, Extra>,
) {
  const { curves, order, operating, colour, titles } = parts;
  return {
    ...CHART_BASE,
    width: 480,
    height: 400,
    layer: [
      {
        data: { values: curves },
        mark: {
          type: "line" as const,
          strokeWidth: 2,
          point: { size: 18, filled: true },
          aria: false,
        },
        encoding: {
          x: unitAxis("recall", titles.recall),
          y: unitAxis("precision", titles.precision),
          color: colour,
          order: { field: order, type: "quantitative" as const },
        },
      },
      ...(operating.length === 0
        ? []
        : [
            {
              data: { values: operating },
              mark: {
                type: "point" as const,
                shape: "diamond" as const,
                size: 130,
                filled: true,
                stroke: "black",
                strokeWidth: 1,
                opacity: 1,
                aria: false,
              },
              encoding: { x: unitAxis("recall", ""), y: unitAxis("precision", ""), color: colour },
            },
          ]),
      ...(parts.extra ?? []),
    ],
  };
}

/** Precision against recall as each detector's threshold moves, with its operating point. */
export function precisionRecallSpec(run: ReportRun): TopLevelSpec | undefined {
  const names = detectorNames(run);
  const curves = run.prCurves.flatMap((c) =>
    c.points
      .filter((p) => finite(p.precision, p.recall, p.threshold))
      .map((p) => ({ detector: c.detector, ...p })),
  );
  if (curves.length === 0) return undefined;
  const operating = run.detectors
    .filter((d) => finite(d.precision, d.recall))
    .map((d) => ({ detector: d.name, precision: d.precision, recall: d.recall }));
  // The RSSI ceiling (a reference, not a detector): its curve dashed, its best point a cross.
  const ceiling = run.references?.find((r) => r.name === "ceiling");
  const ceilingCurve = (ceiling?.points ?? []).filter((p) =>
    finite(p.precision, p.recall, p.threshold),
  );
  const ceilingPoint =
    ceiling && finite(ceiling.precision, ceiling.recall)
      ? [{ precision: ceiling.precision, recall: ceiling.recall, label: "RSSI ceiling" }]
      : [];
  return precisionRecallChart({
    curves,
    order: "threshold",
    operating,
    colour: detectorColour(names, { range: names.map((n) => colourOf(names, n)) }),
    titles: {
      recall: "recall (share of true close contacts found)",
      precision: "precision (share of decisions that were right)",
    },
    extra: [
      ...(ceilingCurve.length === 0
        ? []
        : [
            {
              data: { values: ceilingCurve },
              mark: {
                type: "line" as const,
                color: TRUTH_COLOUR,
                strokeDash: [4, 3],
                strokeWidth: 1.5,
                aria: false,
              },
              encoding: {
                x: unitAxis("recall", ""),
                y: unitAxis("precision", ""),
                order: {
                  field: "threshold",
                  type: "quantitative" as const,
                  sort: "descending" as const,
                },
              },
            },
          ]),
      ...(ceilingPoint.length === 0
        ? []
        : [
            {
              data: { values: ceilingPoint },
              mark: {
                type: "point" as const,
                shape: "cross",
                size: 160,
                filled: true,
                color: TRUTH_COLOUR,
                opacity: 1,
                aria: false,
              },
              encoding: { x: unitAxis("recall", ""), y: unitAxis("precision", "") },
            },
            {
              data: { values: ceilingPoint },
              mark: {
                type: "text" as const,
                align: "left" as const,
                dx: 8,
                dy: -8,
                fontSize: 11,
                color: TRUTH_COLOUR,
                aria: false,
              },
              encoding: {
                x: unitAxis("recall", ""),
                y: unitAxis("precision", ""),
                text: { field: "label", type: "nominal" as const },
              },
            },
          ]),
    ],
  });
}

interface Interval {
  startS: number;
  endS: number;
}

/** Sorted, merged copies of `intervals` (touching ones joined). */
function merge(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals
    .filter((i) => finite(i.startS, i.endS) && i.endS >= i.startS)
    .map((i) => ({ startS: i.startS, endS: i.endS }))
    .sort((a, b) => a.startS - b.startS || a.endS - b.endS);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last && i.startS <= last.endS) last.endS = Math.max(last.endS, i.endS);
    else out.push(i);
  }
  return out;
}

const total = (merged: readonly Interval[]) => merged.reduce((s, i) => s + i.endS - i.startS, 0);

function overlap(a: readonly Interval[], b: readonly Interval[]): number {
  let sum = 0;
  let j = 0;
  for (const i of a) {
    while (j < b.length && b[j].endS <= i.startS) j++;
    for (let k = j; k < b.length && b[k].startS < i.endS; k++)
      sum += Math.max(0, Math.min(i.endS, b[k].endS) - Math.max(i.startS, b[k].startS));
  }
  return sum;
}

const seriesOf = (t: ReportRun["timeline"][number]) =>
  t.kind === "truth-close" ? TRUTH_SERIES : (t.detector ?? "detected");

/**
 * The detectors worth a row in the timeline: the table's first (ours, by convention), then
 * the others by F1, at most `max`; the rest are in the table and the precision-recall chart.
 */
export function selectTimelineDetectors(run: ReportRun, max = MAX_TIMELINE_DETECTORS): string[] {
  const present = new Set(run.timeline.filter((t) => t.kind === "detected").map(seriesOf));
  const order = detectorNames(run).filter((n) => present.has(n));
  const f1 = new Map(run.detectors.map((d) => [d.name, Number.isFinite(d.f1) ? d.f1 : -1]));
  const [first, ...rest] = order;
  rest.sort((a, b) => (f1.get(b) ?? -1) - (f1.get(a) ?? -1) || order.indexOf(a) - order.indexOf(b));
  return first === undefined ? [] : [first, ...rest].slice(0, Math.max(0, max));
}

/**
 * The pairs worth showing: first those where `detectors` (default: every detector named in
 * the timeline) and the truth disagree longest (summed over detectors: time close but not
 * detected plus time detected but not close), then those with the longest true contact,
 * then by name.
 */
export function selectTimelinePairs(
  timeline: ReportRun["timeline"],
  max = MAX_TIMELINE_PAIRS,
  detectors: readonly string[] = [
    ...new Set(timeline.filter((t) => t.kind === "detected").map(seriesOf)),
  ],
): string[] {
  const byPair = new Map<string, Map<string, Interval[]>>();
  for (const t of timeline) {
    let entry = byPair.get(t.pair);
    if (!entry) {
      entry = new Map();
      byPair.set(t.pair, entry);
    }
    const series = seriesOf(t);
    const list = entry.get(series) ?? [];
    list.push(t);
    entry.set(series, list);
  }
  const scored = [...byPair].map(([pair, entry]) => {
    const truth = merge(entry.get(TRUTH_SERIES) ?? []);
    const truthS = total(truth);
    let mismatchS = 0;
    for (const detector of detectors) {
      const detected = merge(entry.get(detector) ?? []);
      mismatchS += truthS + total(detected) - 2 * overlap(truth, detected);
    }
    const drawn = entry.has(TRUTH_SERIES) || detectors.some((d) => entry.has(d));
    return { pair, truthS, mismatchS, drawn };
  });
  scored.sort(
    (a, b) =>
      b.mismatchS - a.mismatchS ||
      b.truthS - a.truthS ||
      (a.pair < b.pair ? -1 : a.pair > b.pair ? 1 : 0),
  );
  return scored
    .filter((s) => s.drawn)
    .slice(0, Math.max(0, max))
    .map((s) => s.pair);
}

/** What the timeline shows: its detectors and pairs, and how many of each there were. */
export interface TimelinePlan {
  detectors: string[];
  pairs: string[];
  allDetectors: number;
  allPairs: number;
}

export function planTimeline(run: ReportRun): TimelinePlan {
  const detectors = selectTimelineDetectors(run);
  return {
    detectors,
    pairs: selectTimelinePairs(run.timeline, MAX_TIMELINE_PAIRS, detectors),
    allDetectors: new Set(run.timeline.filter((t) => t.kind === "detected").map(seriesOf)).size,
    allPairs: new Set(run.timeline.map((t) => t.pair)).size,
  };
}

/** Truth-close intervals and each shown detector's detections, one row of bars per pair. */
export function timelineSpec(run: ReportRun, plan: TimelinePlan): TopLevelSpec | undefined {
  const { pairs } = plan;
  if (pairs.length === 0) return undefined;
  const names = detectorNames(run);
  const shown = new Set(pairs);
  const hasTruth = run.timeline.some((t) => t.kind === "truth-close" && shown.has(t.pair));
  const series = [...(hasTruth ? [TRUTH_SERIES] : []), ...plan.detectors];
  const wanted = new Set(series);
  const ends = run.timeline.map((t) => t.endS).filter(Number.isFinite);
  const lastS = Math.max(1, Number.isFinite(run.durationS) ? run.durationS : 0, ...ends);
  // A zero-length interval (one detection instant) still gets a visible sliver.
  const minWidthS = lastS / 600;
  const values = run.timeline
    .filter(
      (t) =>
        shown.has(t.pair) &&
        wanted.has(seriesOf(t)) &&
        finite(t.startS, t.endS) &&
        t.endS >= t.startS,
    )
    .map((t) => ({
      pair: t.pair,
      series: seriesOf(t),
      startMin: t.startS / 60,
      endMin: Math.max(t.endS, t.startS + minWidthS) / 60,
    }));
  return {
    ...CHART_BASE,
    width: WIDTH,
    // The step is the height of one pair's row (not of one bar within it).
    height: { step: Math.max(16, series.length * 7 + 6), for: "position" },
    data: { values },
    mark: { type: "bar", aria: false },
    encoding: {
      y: {
        field: "pair",
        type: "nominal",
        sort: [...pairs],
        title: "pair",
        // Grid lines between the pairs' rows, not through them.
        axis: { labelLimit: 160, grid: true, tickBand: "extent" },
      },
      yOffset: {
        field: "series",
        type: "nominal",
        sort: series,
        scale: { domain: series, paddingInner: 0.15 },
      },
      x: {
        field: "startMin",
        type: "quantitative",
        title: "time since the start (min)",
        scale: { domain: [0, lastS / 60], nice: false },
        axis: { orient: "top" },
      },
      x2: { field: "endMin" },
      color: {
        field: "series",
        type: "nominal",
        title: null,
        scale: {
          domain: series,
          range: series.map((s) => (s === TRUTH_SERIES ? TRUTH_COLOUR : colourOf(names, s))),
        },
        legend: { orient: "top", columns: 4 },
      },
    },
  };
}
