/**
 * The campaign report's charts as Vega-Lite specifications (pure data in, spec out), drawn in
 * the simulation report's look: RSSI against distance per campaign, the exp05 detectors'
 * precision-recall curves, and the DP-3T per-sample threshold sweep.
 */
import type { TopLevelSpec } from "vega-lite";
import type { CampaignSummary, RssiPoint } from "./evaluate-campaigns.js";
import type { Exp05ContactResult } from "./exp05-contacts.js";
import type { Exp05PerSample } from "./exp05-per-sample.js";
import { downsampleEvenly } from "../sim/report/measured-rssi-vs-distance.js";
import {
  CHART_BASE,
  detectorColour,
  precisionRecallChart,
  unitAxis,
} from "../sim/report/report-charts.js";

/** Points per campaign in its RSSI chart (the evaluation already keeps about 1500). */
export const MAX_CAMPAIGN_POINTS = 2000;
/** Thresholds labelled on the per-sample curve: every this many dB. */
export const PER_SAMPLE_LABEL_STEP_DB = 5;

const INK = "#333333";

/** JSON turns NaN into null: both count as missing. */
const finite = (...values: unknown[]) =>
  values.every((v) => typeof v === "number" && Number.isFinite(v));

/** Path-loss fit `RSSI = A - 10 n log10(d)` drawn over `[fromM, toM]`. */
function pathLossLine(
  fit: NonNullable<CampaignSummary["pathLoss"]>,
  fromM: number,
  toM: number,
): { distanceM: number; rssiDbm: number }[] {
  const steps = 24;
  return Array.from({ length: steps + 1 }, (_, i) => {
    const distanceM = fromM * (toM / fromM) ** (i / steps);
    return { distanceM, rssiDbm: fit.rssiAt1mDbm - 10 * fit.exponent * Math.log10(distanceM) };
  });
}

/**
 * One campaign's RSSI against true distance (log scale), coloured by carry position pair
 * (receiver/sender), with the campaign's path-loss fit as a dark line.
 */
export function campaignRssiSpec(
  points: readonly RssiPoint[],
  pathLoss?: CampaignSummary["pathLoss"],
): TopLevelSpec | undefined {
  const values = downsampleEvenly(
    points.filter((p) => finite(p.distanceM, p.rssiDbm) && p.distanceM > 0),
    MAX_CAMPAIGN_POINTS,
  ).map((p) => ({ carry: p.carry, distanceM: p.distanceM, rssiDbm: p.rssiDbm }));
  if (values.length === 0) return undefined;
  const carries = [...new Set(values.map((p) => p.carry))].sort();
  const distances = values.map((p) => p.distanceM);
  const fromM = Math.min(...distances);
  const toM = Math.max(...distances);
  const fit =
    pathLoss && finite(pathLoss.rssiAt1mDbm, pathLoss.exponent) && toM > fromM
      ? pathLossLine(pathLoss, fromM, toM)
      : [];
  const x = {
    field: "distanceM",
    type: "quantitative",
    title: "true distance (m, log scale)",
    // Not rounded out to whole decades: the campaigns span one decade or less.
    scale: { type: "log", nice: false, padding: 6 },
    axis: { grid: true },
  } as const;
  const y = {
    field: "rssiDbm",
    type: "quantitative",
    title: "RSSI (dBm)",
    scale: { zero: false },
  } as const;
  return {
    ...CHART_BASE,
    width: 560,
    height: 280,
    layer: [
      {
        data: { values },
        mark: { type: "point", filled: true, size: 14, opacity: 0.35, aria: false },
        encoding: {
          x,
          y,
          color: {
            field: "carry",
            type: "nominal",
            title: "carry (receiver/sender)",
            scale: { domain: carries, scheme: carries.length > 10 ? "tableau20" : "tableau10" },
            legend: { orient: "right", symbolOpacity: 1, titleLimit: 300 },
          },
        },
      },
      ...(fit.length === 0
        ? []
        : [
            {
              data: { values: fit },
              mark: { type: "line" as const, color: INK, strokeWidth: 2, aria: false },
              encoding: { x, y },
            },
          ]),
    ],
  };
}

/** Every exp05 detector's precision against recall as its score threshold falls, and its decision. */
export function contactPrecisionRecallSpec(result: Exp05ContactResult): TopLevelSpec | undefined {
  const names = result.detectors.map((d) => d.detector);
  const curves = result.detectors.flatMap((d) =>
    (d.prCurve ?? [])
      .filter((p) => finite(p.precision, p.recall))
      .map((p, rank) => ({ detector: d.detector, rank, precision: p.precision, recall: p.recall })),
  );
  if (curves.length === 0) return undefined;
  const operating = result.detectors
    .filter((d) => finite(d.precision.value, d.recall.value))
    .map((d) => ({ detector: d.detector, precision: d.precision.value, recall: d.recall.value }));
  return precisionRecallChart({
    curves,
    order: "rank",
    operating,
    colour: detectorColour(names, { scheme: names.length > 10 ? "tableau20" : "tableau10" }),
    titles: {
      recall: "recall (share of close contacts notified)",
      precision: "precision (share of notifications that were close)",
    },
  });
}

/** A marked point of the per-sample chart, with its own colour, shape and size. */
export interface PerSampleMarker {
  label: string;
  precision: number;
  recall: number;
  colour: string;
  shape: string;
  /** Area; the later markers are smaller, so one on top of another leaves it visible. */
  size: number;
}

/** The marked points of the per-sample chart, in legend order (missing ones left out). */
export function perSampleMarkers(perSample: Exp05PerSample): PerSampleMarker[] {
  const { bestThreshold: best, at55Db, alwaysClose, estimator } = perSample;
  const markers: PerSampleMarker[] = [
    {
      label: `best threshold (${best.thresholdDb} dB)`,
      precision: best.precision,
      recall: best.recall,
      colour: "#54a24b",
      shape: "diamond",
      size: 200,
    },
    {
      label: `DP-3T's ${at55Db.thresholdDb} dB`,
      precision: at55Db.precision,
      recall: at55Db.recall,
      colour: "#e45756",
      shape: "square",
      size: 170,
    },
    {
      label: "always close",
      precision: alwaysClose.precision,
      recall: alwaysClose.recall,
      colour: "#9d755d",
      shape: "triangle-up",
      size: 220,
    },
    {
      label: `${estimator.name} estimate < ${perSample.closeDistanceM} m`,
      precision: estimator.precision,
      recall: estimator.recall,
      colour: "#f58518",
      shape: "circle",
      size: 70,
    },
  ];
  return markers.filter((m) => finite(m.precision, m.recall));
}

/**
 * The attenuation threshold sweep as a precision-recall curve, thresholds labelled every
 * `PER_SAMPLE_LABEL_STEP_DB` (a label too close to the previous one is left out, as the high
 * thresholds pile up at recall 1), with the marked points of `perSampleMarkers`.
 */
export function perSampleSpec(perSample: Exp05PerSample): TopLevelSpec | undefined {
  const curve = perSample.curve
    .filter((p) => finite(p.precision, p.recall, p.thresholdDb))
    .map((p) => ({ thresholdDb: p.thresholdDb, precision: p.precision, recall: p.recall }));
  if (curve.length === 0) return undefined;
  const labels: { precision: number; recall: number; label: string }[] = [];
  for (const p of curve) {
    if (p.thresholdDb % PER_SAMPLE_LABEL_STEP_DB !== 0) continue;
    const last = labels[labels.length - 1];
    if (
      last &&
      Math.abs(last.recall - p.recall) < 0.04 &&
      Math.abs(last.precision - p.precision) < 0.02
    )
      continue;
    labels.push({ precision: p.precision, recall: p.recall, label: `${p.thresholdDb} dB` });
  }
  const markers = perSampleMarkers(perSample);
  const precisions = [...curve, ...markers].map((p) => p.precision);
  const low = Math.max(0, Math.floor((Math.min(...precisions) - 0.05) * 10) / 10);
  const x = unitAxis("recall", "recall (share of close samples said close)");
  const y = {
    field: "precision",
    type: "quantitative" as const,
    title: "precision (share of 'close' that were close)",
    scale: { domain: [low, 1] },
  };
  return {
    ...CHART_BASE,
    width: 520,
    height: 380,
    layer: [
      {
        data: { values: curve },
        mark: {
          type: "line",
          color: "#4c78a8",
          strokeWidth: 2,
          point: { size: 16, filled: true, color: "#4c78a8" },
          aria: false,
        },
        encoding: { x, y, order: { field: "thresholdDb", type: "quantitative" } },
      },
      {
        data: { values: labels },
        mark: {
          type: "text",
          // Above and to the right: away from the falling curve and the y axis.
          align: "left",
          dx: 6,
          dy: -6,
          fontSize: 10,
          color: "#555555",
          aria: false,
        },
        encoding: { x, y, text: { field: "label", type: "nominal" } },
      },
      ...(markers.length === 0
        ? []
        : [
            {
              data: { values: markers },
              mark: {
                type: "point" as const,
                size: 150,
                filled: true,
                stroke: "black",
                strokeWidth: 1,
                opacity: 0.9,
                aria: false,
              },
              encoding: {
                x,
                y,
                color: {
                  field: "label",
                  type: "nominal" as const,
                  title: null,
                  scale: {
                    domain: markers.map((m) => m.label),
                    range: markers.map((m) => m.colour),
                  },
                  legend: { orient: "bottom" as const, columns: 2 },
                },
                shape: {
                  field: "label",
                  type: "nominal" as const,
                  scale: {
                    domain: markers.map((m) => m.label),
                    range: markers.map((m) => m.shape),
                  },
                },
                size: { field: "size", type: "quantitative" as const, scale: null, legend: null },
              },
            },
          ]),
    ],
  };
}
