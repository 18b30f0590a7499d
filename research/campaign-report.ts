/**
 * `report.html` of `proxkit evaluate --report DIR`: the evaluation on real measurement campaigns
 * as one self-contained page, made as the simulation report is (`sim/report/render-report.ts`): charts are
 * Vega-Lite specs rendered to inline SVG here in Node, tables are plain HTML, the page runs no
 * script and loads nothing, and every text taken from the evaluation is escaped. A section
 * whose data the evaluation lacks (exp05 or the tram when only one dataset was evaluated) is
 * left out.
 */
import { join } from "node:path";
import type { CampaignEvaluation } from "./evaluate-campaigns.js";
import type { Exp05ContactResult } from "./exp05-contacts.js";
import type { Estimate95 } from "./unit-bootstrap.js";
import { writeFileAtomic } from "../src/io/atomic-write.js";
import { prepareOutputFolder } from "../src/io/output-folder.js";
import type { SimToRealResult } from "./sim-to-real.js";
import {
  campaignRssiSpec,
  contactPrecisionRecallSpec,
  MAX_CAMPAIGN_POINTS,
  PER_SAMPLE_LABEL_STEP_DB,
  perSampleSpec,
} from "./campaign-charts.js";
import {
  CSS,
  escapeHtml,
  formatDurationS,
  htmlPage,
  type Renderer,
  svgRenderer,
} from "../sim/report/render-report.js";

type TopLevelSpec = import("vega-lite").TopLevelSpec;

export const CAMPAIGN_REPORT_TITLE = "proxkit evaluate: real measurement campaigns";

const EXTRA_CSS = `
h4 { font-size: 1em; margin: 20px 0 6px; }
.wide { overflow-x: auto; }
td { white-space: nowrap; }
td:first-child { white-space: normal; }
th.text { text-align: left; }
td.text { text-align: left; white-space: normal; min-width: 13em; }
td.name { white-space: nowrap; }
td.verdict { text-align: left; }
.sub { color: #666; font-size: 0.85em; font-weight: normal; }
tr.group th { text-align: left; background: #e6e6e6; }
tr.default td { font-weight: 600; background: #eaf2fb; }
`;

/** A number, or "—" when missing (JSON turns NaN into null). */
function num(v: unknown, digits = 3): string {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "—";
}

/** "-0.020" with a real minus sign, "+0.102". */
function signed(v: unknown, digits = 3): string {
  if (typeof v !== "number" || !Number.isFinite(v)) return "—";
  const text = Math.abs(v).toFixed(digits);
  if (Number(text) === 0) return text;
  return v < 0 ? `\u2212${text}` : `+${text}`;
}

function percent(v: unknown): string {
  return typeof v === "number" && Number.isFinite(v) ? `${(v * 100).toFixed(1)} %` : "—";
}

function count(v: unknown): string {
  return typeof v === "number" && Number.isFinite(v) ? v.toLocaleString("en-US") : "—";
}

/** "0.765 (0.704–0.804)"; the value alone when the interval is undefined. */
export function formatEstimate(
  estimate: { readonly value: unknown; readonly interval95: readonly unknown[] } | undefined,
  digits = 3,
): string {
  if (!estimate) return "—";
  const [low, high] = estimate.interval95 ?? [];
  const value = num(estimate.value, digits);
  if (value === "—" || num(low) === "—" || num(high) === "—") return value;
  return `${value} (${num(low, digits)}\u2013${num(high, digits)})`;
}

/** A paired difference: "+0.102 (+0.056 to +0.139)". */
export function formatDifference(estimate: Estimate95, digits = 3): string {
  const [low, high] = estimate.interval95 ?? [];
  const value = signed(estimate.value, digits);
  if (value === "—" || signed(low) === "—" || signed(high) === "—") return value;
  return `${value} (${signed(low, digits)} to ${signed(high, digits)})`;
}

/** Which side a paired difference's 95 % interval favours, or "not told apart" when it holds 0. */
export function differenceVerdict(estimate: Estimate95, first: string, second: string): string {
  const [low, high] = estimate.interval95 ?? [];
  if (typeof low !== "number" || typeof high !== "number" || !(low <= high)) return "—";
  if (low > 0) return `${first} higher`;
  if (high < 0) return `${second} higher`;
  return "not told apart";
}

const cell = (text: string, className?: string) =>
  `<td${className ? ` class="${className}"` : ""}>${escapeHtml(text)}</td>`;
const row = (cells: string[], className?: string) =>
  `<tr${className ? ` class="${className}"` : ""}>${cells.join("")}</tr>`;
/** A header row; the columns in `textColumns` hold text, not numbers, and align left. */
const head = (titles: string[], textColumns: number[] = []) =>
  `<thead><tr>${titles
    .map((t, i) => `<th${textColumns.includes(i) ? ' class="text"' : ""}>${escapeHtml(t)}</th>`)
    .join("")}</tr></thead>`;
const table = (header: string, rows: string[]) =>
  `<div class="wide"><table>\n${header}\n<tbody>\n${rows.join("\n")}\n</tbody>\n</table></div>`;
const explain = (text: string) => `<p class="explain">${escapeHtml(text)}</p>`;

async function chart(
  id: string,
  spec: TopLevelSpec | undefined,
  render: Renderer,
  noData: string,
): Promise<string> {
  if (spec === undefined) return `<p class="no-data">No data: ${escapeHtml(noData)}</p>`;
  return `<div class="chart" data-chart="${escapeHtml(id)}">${await render(spec)}</div>`;
}

interface Section {
  id: string;
  title: string;
  html: string;
}

function campaignsSection(evaluation: CampaignEvaluation): Section | undefined {
  if (evaluation.campaigns.length === 0) return undefined;
  const rows = evaluation.campaigns.map((c) =>
    row([
      cell(c.name, "name"),
      `<td class="text">${escapeHtml(c.description)}<br><span class="sub">${escapeHtml(c.source)}</span></td>`,
      cell(c.role),
      cell(count(c.records)),
      cell(count(c.streams)),
      cell(count(c.instants)),
      cell(count(c.units)),
      cell(num(c.pathLoss?.rssiAt1mDbm, 1)),
      cell(num(c.pathLoss?.exponent, 2)),
      cell(num(c.pathLoss?.residualDb, 1)),
    ]),
  );
  return {
    id: "campaigns",
    title: "Campaigns",
    html: `${table(
      head(
        [
          "campaign",
          "description and source (licence)",
          "role",
          "records",
          "streams",
          "instants",
          "units",
          "RSSI at 1 m (dBm)",
          "n",
          "σ (dB)",
        ],
        [1],
      ),
      rows,
    )}
${explain(
  "Role estimators: distances vary, so the campaign is held out in turn and fitted on; detectors: scored only by the contact detectors. Records are received advertisements, streams the directed receiver-sender recordings, instants the moments every estimator is scored at, units the independent parts (placements, pairs of people) the 95 % intervals resample. The path-loss fit is the least-squares RSSI = A − 10 n log10(d) over the records with a distance above 0: A the RSSI at 1 m, n the exponent, σ the residual standard deviation.",
)}`,
  };
}

async function rssiSection(
  evaluation: CampaignEvaluation,
  render: Renderer,
): Promise<Section | undefined> {
  const byCampaign = new Map<string, CampaignEvaluation["rssiVsDistance"][number][]>();
  for (const p of evaluation.rssiVsDistance) {
    const list = byCampaign.get(p.campaign) ?? [];
    list.push(p);
    byCampaign.set(p.campaign, list);
  }
  const parts: string[] = [];
  for (const [campaign, points] of byCampaign) {
    const fit = evaluation.campaigns.find((c) => c.name === campaign)?.pathLoss;
    const spec = campaignRssiSpec(points, fit);
    if (!spec) continue;
    const fitText = fit
      ? ` · fit: A ${num(fit.rssiAt1mDbm, 1)} dBm, n ${num(fit.exponent, 2)}, σ ${num(fit.residualDb, 1)} dB`
      : "";
    parts.push(`<h3>${escapeHtml(campaign)} <span class="sub">${escapeHtml(
      `${count(Math.min(points.length, MAX_CAMPAIGN_POINTS))} points${fitText}`,
    )}</span></h3>
${await chart("rssi-vs-distance", spec, render, "")}`);
  }
  if (parts.length === 0) return undefined;
  return {
    id: "rssi-vs-distance",
    title: "RSSI against distance",
    html: `${explain(
      `Each dot is one received advertisement at its true distance (an even sample of each campaign, at most ${MAX_CAMPAIGN_POINTS}), coloured by where the receiver and the sender were carried; the dark line is the campaign's path-loss fit. The spread at one distance, not the slope, is what limits every RSSI-based estimator.`,
    )}
${parts.join("\n")}`,
  };
}

function estimatorsSection(evaluation: CampaignEvaluation): Section | undefined {
  const loco = evaluation.estimators;
  if (loco.campaigns.length === 0 && loco.pooled.length === 0) return undefined;
  const distances = (loco.pooled[0] ?? loco.campaigns[0]?.estimators[0])?.decisions.map(
    (d) => d.distanceM,
  ) ?? [2, 1.5];
  // MAE, AUC and balanced accuracy at the first decision distance, AUC at the others.
  const columns: { title: string; of: (s: (typeof loco.pooled)[number]) => string }[] = [
    { title: "MAE (m)", of: (s) => formatEstimate(s.maeM, 2) },
    ...distances.flatMap((distanceM, k) => [
      {
        title: `AUC within ${distanceM} m`,
        of: (s: (typeof loco.pooled)[number]) => formatEstimate(s.decisions[k]?.auc),
      },
      ...(k === 0
        ? [
            {
              title: `balanced accuracy within ${distanceM} m`,
              of: (s: (typeof loco.pooled)[number]) =>
                formatEstimate(s.decisions[k]?.balancedAccuracy),
            },
          ]
        : []),
    ]),
  ];
  const span = columns.length + 1;
  const group = (title: string) =>
    `<tr class="group"><th colspan="${span}">${escapeHtml(title)}</th></tr>`;
  const estimatorRows = (scores: readonly (typeof loco.pooled)[number][]) =>
    scores.map((s, i) =>
      row(
        [cell(s.estimator), ...columns.map((c) => cell(c.of(s)))],
        i === 0 ? "default" : undefined,
      ),
    );
  const priorRow = (label: string, maeM: number) =>
    row([cell(label), cell(num(maeM, 2)), ...columns.slice(1).map(() => "<td></td>")], "reference");
  const rows: string[] = [];
  for (const c of loco.campaigns) {
    const within = distances.map((d, k) => `${percent(c.withinShare[k])} within ${d} m`).join(", ");
    rows.push(
      group(
        `held out: ${c.campaign} · ${count(c.instants)} instants, ${count(c.units)} units · ${within}`,
      ),
      ...estimatorRows(c.estimators),
      ...(c.hindsight
        ? [
            priorRow(
              `(${c.hindsight.estimator} fitted on this campaign itself: a bound)`,
              c.hindsight.maeM,
            ),
          ]
        : []),
      priorRow(`(prior only: always ${num(c.priorOnly.distanceM, 2)} m)`, c.priorOnly.maeM),
    );
  }
  if (loco.pooled.length > 0)
    rows.push(
      group(
        `pooled: mean over the ${loco.campaigns.length} held-out campaigns, each weighted equally`,
      ),
      ...estimatorRows(loco.pooled),
      ...(loco.hindsightMaeM === undefined
        ? []
        : [priorRow("(the first fitted on each campaign itself: a bound)", loco.hindsightMaeM)]),
      priorRow("(prior only)", loco.priorOnlyMaeM),
    );
  const differences = loco.aucDifferences.map((d) =>
    row([
      cell(`${d.estimator} − ${d.versus}`),
      cell(formatDifference(d.difference)),
      cell(differenceVerdict(d.difference, d.estimator, d.versus), "verdict"),
    ]),
  );
  const fitAll = Object.entries(evaluation.estimatorFitAll)
    .map(([name, value]) => `${name} ${num(value, 2)}`)
    .join(", ");
  const first = loco.pooled[0]?.estimator ?? loco.campaigns[0]?.estimators[0]?.estimator;
  return {
    id: "estimators",
    title: "Distance estimators, leave one campaign out",
    html: `${table(head(["estimator", ...columns.map((c) => c.title)]), rows)}
${explain(
  `Each estimator is fitted on every campaign but one and scored on the one left out. MAE: mean absolute error of the distance estimate; AUC within d: ROC AUC of minus the estimate for "truly within d"; balanced accuracy: of "estimate ≤ d". In brackets the 95 % interval from a bootstrap of each campaign's units. The prior-only rows predict the training campaigns' median distance everywhere, without any RSSI: an MAE to beat. The bound rows fit the default's model on the held-out campaign itself, in hindsight: the error its model family could reach if that campaign's own RSSI level were known.${first ? ` ${first}, the default, is highlighted.` : ""}${fitAll ? ` ${first ?? "The first estimator"} fitted on all the campaigns (what it ships): ${fitAll}.` : ""}`,
)}
${
  differences.length === 0
    ? ""
    : `<h3>Paired AUC differences (within ${distances[0]} m, pooled)</h3>
${table(head(["compared", "AUC difference", "verdict"], [2]), differences)}
${explain(
  "The first estimator's pooled AUC minus each other's, on the same bootstrap resamples; when the 95 % interval holds 0 the two are not told apart by these data.",
)}`
}`,
  };
}

function detectorFitsSection(evaluation: CampaignEvaluation): Section {
  const rows = [
    ...evaluation.detectorFits.map((f) =>
      row([
        cell(`every campaign but ${f.heldOut}`),
        cell(num(f.closeAttenuationDb, 1)),
        cell(num(f.closeScaleDb, 2)),
      ]),
    ),
    row(
      [
        cell("all campaigns (what the proxkit preset ships)"),
        cell(num(evaluation.detectorFitAll.closeAttenuationDb, 1)),
        cell(num(evaluation.detectorFitAll.closeScaleDb, 2)),
      ],
      "default",
    ),
  ];
  return {
    id: "detector-fits",
    title: "Detector fits",
    html: `${table(head(["fitted on", "midpoint (dB)", "scale (dB)"]), rows)}
${explain(
  "Our detector's two numbers, P(within 2 m | attenuation a) = 1 / (1 + exp((a − midpoint) / scale)), fitted on a 10 s median attenuation in each campaign (the median over campaigns of each number), leaving out the campaign it is then scored on.",
)}`,
  };
}

async function contactHtml(result: Exp05ContactResult, render: Renderer): Promise<string> {
  const ours = result.detectors[0]?.detector;
  const detectorRows = result.detectors.map((d, i) =>
    row(
      [
        cell(d.detector),
        cell(count(d.notified)),
        cell(num(d.precision.value)),
        cell(num(d.recall.value)),
        cell(formatEstimate(d.f1)),
        cell(formatEstimate(d.auc)),
      ],
      i === 0 ? "default" : undefined,
    ),
  );
  const differences = result.f1Differences.map((d) =>
    row([
      cell(`${d.detector} − ${d.versus}`),
      cell(formatDifference(d.difference)),
      cell(differenceVerdict(d.difference, d.detector, d.versus), "verdict"),
    ]),
  );
  const scenarioHead = `<thead><tr><th>detector</th>${result.scenarios
    .map(
      (s) =>
        `<th>${escapeHtml(s.scenario)}<br><span class="sub">${escapeHtml(
          `${count(s.pairs)} pairs, ${count(s.closeContacts)} close`,
        )}</span></th>`,
    )
    .join("")}</tr></thead>`;
  const scenarioRows = result.detectors.map((d, i) =>
    row(
      [
        cell(d.detector),
        ...result.scenarios.map((s) =>
          cell(num(s.detectors.find((x) => x.detector === d.detector)?.f1)),
        ),
      ],
      i === 0 ? "default" : undefined,
    ),
  );
  const title = `Within ${result.closeDistanceM} m for ${result.closeMinutes} min`;
  return `<h3>${escapeHtml(title)}</h3>
<p class="meta">${escapeHtml(
    `${count(result.pairs)} directed pairs the cameras saw together, ${count(result.closeContacts)} of them close contacts (${percent(result.closeContacts / result.pairs)})`,
  )}</p>
${table(head(["detector", "notified", "precision", "recall", "F1", "ROC AUC"]), detectorRows)}
${explain(
  `Notified: pairs the detector would notify. F1 and ROC AUC (of the detector's score: the daily weighted duration, Immuni's maximum risk score) with the 95 % interval from a bootstrap of pairs of people within scenarios.${ours ? ` ${ours}, ours, is highlighted.` : ""}`,
)}
${
  differences.length === 0
    ? ""
    : `<h4>F1 differences</h4>
${table(head(["compared", "F1 difference", "verdict"], [2]), differences)}
${explain('Our F1 minus each preset\'s on the same resamples; "not told apart" when the 95 % interval holds 0.')}`
}
${
  result.scenarios.length === 0
    ? ""
    : `<h4>F1 per scenario</h4>
${table(scenarioHead, scenarioRows)}`
}
<h4>Precision and recall over score thresholds</h4>
${await chart("exp05-precision-recall", contactPrecisionRecallSpec(result), render, "no precision-recall curves were computed.")}
${explain(
  "One line per detector, tracing precision against recall as the threshold on its score falls; the diamonds are the decisions in the table. A preset whose score takes few values has a short line.",
)}`;
}

async function contactsSection(
  evaluation: CampaignEvaluation,
  render: Renderer,
): Promise<Section | undefined> {
  const contacts = evaluation.exp05?.contacts ?? [];
  if (contacts.length === 0) return undefined;
  const parts: string[] = [];
  for (const result of contacts) parts.push(await contactHtml(result, render));
  return {
    id: "exp05-contacts",
    title: "DP-3T exp05: contact decisions",
    html: `${explain(
      "20 people with Samsung phones in the lunch, train, office, queue and party scenarios of DP-3T experiment 05, filmed for ground truth. Every detector decides each directed pair from the RSSI the receiver logged, through the same code as proxkit match; our detector was fitted on the other campaigns.",
    )}
${parts.join("\n")}`,
  };
}

async function perSampleSection(
  evaluation: CampaignEvaluation,
  render: Renderer,
): Promise<Section | undefined> {
  const ps = evaluation.exp05?.perSample;
  if (!ps) return undefined;
  const best = ps.bestThreshold;
  const at55 = ps.at55Db;
  const prf = (p: { precision: number; recall: number; f1: number | Estimate95 }) =>
    `precision ${num(p.precision)}, recall ${num(p.recall)}, F1 ${typeof p.f1 === "number" ? num(p.f1) : formatEstimate(p.f1)}`;
  const sentence = `Over ${count(ps.samples)} received advertisements with a camera distance (${percent(ps.closeShare)} within ${ps.closeDistanceM} m), the best attenuation threshold is ${best.thresholdDb} dB (${prf(best)}); the DP-3T team's ${at55.thresholdDb} dB gives ${prf(at55)}; always saying "close" gives ${prf(ps.alwaysClose)}. Our estimator (${ps.estimator.name}, "close" when it reads under ${ps.closeDistanceM} m) gives ${prf(ps.estimator)}, and its ROC AUC is ${formatEstimate(ps.estimator.auc)} against the attenuation's ${formatEstimate(ps.attenuationAuc)}.`;
  return {
    id: "exp05-per-sample",
    title: "DP-3T exp05: per-sample reproduction",
    html: `<p>${escapeHtml(sentence)}</p>
${await chart("per-sample", perSampleSpec(ps), render, "no threshold sweep was computed.")}
${explain(
  `The DP-3T team's view: every sample is "close" when its camera distance is under ${ps.closeDistanceM} m, and an attenuation threshold (GAEN's, with Google's calibration table) says "close" at or below it. The line sweeps the threshold, labelled every ${PER_SAMPLE_LABEL_STEP_DB} dB; the marks are the best threshold by F1, DP-3T's, always saying "close" (the base rate sets what F1 means here) and our estimator read after every sample.`,
)}`,
  };
}

function tramSection(evaluation: CampaignEvaluation): Section | undefined {
  const tram = evaluation.dublinTram;
  if (!tram) return undefined;
  const results = tram.evaluation.results;
  const d = tram.detector;
  const rows = [
    row(
      [
        cell(`proxkit fitted on the other campaigns (${num(d.closeAttenuationDb, 1)} dB)`),
        cell(count(d.notifications)),
        cell(num(d.tpr)),
        cell(num(d.fpr)),
        cell(formatEstimate({ value: d.balancedAccuracy, interval95: d.balancedAccuracy95 })),
      ],
      "default",
    ),
    ...results.map((r) =>
      row([
        `<td title="${escapeHtml(r.title)}">${escapeHtml(r.preset)}</td>`,
        cell(count(r.notifications)),
        cell(num(r.tpr)),
        cell(num(r.fpr)),
        // A detector preset's interval belongs to its cross-validated figure (its own row).
        cell(
          r.crossValidated
            ? num(r.balancedAccuracy)
            : formatEstimate({ value: r.balancedAccuracy, interval95: r.balancedAccuracy95 }),
        ),
      ]),
    ),
    ...results.flatMap((r) => {
      const cv = r.crossValidated;
      if (!cv) return [];
      return [
        row(
          [
            cell(`(${r.preset} fitted on the tram itself, leave one handset out)`),
            cell(count(cv.notifications)),
            cell(num(cv.tpr)),
            cell(num(cv.fpr)),
            cell(formatEstimate({ value: cv.balancedAccuracy, interval95: r.balancedAccuracy95 })),
          ],
          "reference",
        ),
      ];
    }),
  ];
  const first = results[0];
  const meta = first
    ? `<p class="meta">${escapeHtml(
        `${count(first.pairs)} pairs of handsets, ${count(first.positives)} within ${tram.evaluation.closeDistanceM} m`,
      )}</p>\n`
    : "";
  return {
    id: "dublin-tram",
    title: "Dublin tram",
    html: `${meta}${table(
      head(["detector", "notifications", "TPR", "FPR", "balanced accuracy"]),
      rows,
    )}
${explain(
  "GAEN attenuation durations of handset pairs on a Dublin tram (Leith and Farrell 2020): no RSSI, so every detector is run on the recorded minutes per attenuation bin. TPR: share of the close pairs notified; FPR: share of the far pairs notified; balanced accuracy: the mean of TPR and 1 − FPR, with its 95 % bootstrap interval. The highlighted row is our detector fitted on the RSSI campaigns, none of them the tram; the row in italics fits the threshold on the tram itself, leaving each handset out in turn (a reference for what the tram's own data allow; the preset's row above it is the committed preset on every pair, without an interval).",
)}`,
  };
}

function offsetsSection(evaluation: CampaignEvaluation): Section | undefined {
  const offsets = evaluation.offsets;
  const devices = Object.entries(offsets?.devices ?? {});
  if (devices.length === 0) return undefined;
  const rows = devices.map(([model, o]) =>
    row([cell(model), cell(signed(o.rxOffsetDb, 2)), cell(signed(o.txOffsetDb, 2))]),
  );
  return {
    id: "device-offsets",
    title: "Anechoic device offsets",
    html: `<p>${escapeHtml(
      `Fitted on ${count(offsets.pairPlacements)} directed pair placements at 1 m in an anechoic chamber: the spread of the table-calibrated RSSI across placements falls from ${num(offsets.spreadBeforeDb, 2)} dB to ${num(offsets.spreadAfterDb, 2)} dB with the offsets (${num(offsets.spreadLeaveOnePlacementOutDb, 2)} dB when each placement is left out of its own fit).`,
    )}</p>
${table(head(["device model", "receiver offset (dB)", "sender offset (dB)"]), rows)}
${explain(
  "On top of Google's calibration table: the receiver offset is subtracted from the corrected RSSI the model reports, the sender offset added to its table TX power. Offsets are relative to the mean device. These pairs calibrate the devices and are never scored.",
)}`,
  };
}

function simToRealSection(result: SimToRealResult | undefined): Section | undefined {
  if (!result) return undefined;
  const rows = result.rules.map((rule, r) =>
    row([
      cell(rule),
      ...result.scenarios.flatMap((s) => {
        const x = s.rules[r];
        return [cell(num(x.realF1)), cell(num(x.simF1)), cell(signed(x.deltaF1))];
      }),
      cell(num(result.byRule[r].meanAbsDeltaF1)),
    ]),
  );
  rows.push(
    row(
      [
        cell("rank correlation (Spearman)"),
        ...result.scenarios.flatMap((s) => [cell(""), cell(""), cell(num(s.rankCorrelation))]),
        cell(""),
      ],
      "reference",
    ),
  );
  const t = result.targets;
  return {
    id: "sim-to-real",
    title: "Sim-to-real agreement (epfl-* replays)",
    html: `<p class="meta">${escapeHtml(
      `close = within ${result.closeDistanceM} m for ${result.closeMinutes} min, directed pairs; simulated F1: mean of seeds ${result.seeds.join(", ")}`,
    )}</p>
${table(
  head([
    "rule",
    ...result.scenarios.flatMap((s) => [`${s.scenario} real`, "sim", "Δ"]),
    "mean |ΔF1|",
  ]),
  rows,
)}
<p>${escapeHtml(
      `Rank correlation of the rules: mean over scenarios ${num(result.meanRankCorrelation)}, pooled over scenario × rule ${num(result.pooledRankCorrelation)}, of the rules' mean F1 ${num(result.meanF1RankCorrelation)}. Targets: mean |ΔF1| ≤ ${t.maxMeanAbsDeltaF1} for every rule ${t.deltaMet ? "met" : "not met"}; rank correlation ≥ ${t.minRankCorrelation} ${t.rankMet ? "met" : "not met"}.`,
    )}</p>
${explain(
  "Each rule (ours as shipped and every preset) decides on every directed pair of people of the DP-3T exp05 crowd scenarios twice: from the RSSI the real phones logged, and in the simulator's replay of the same people on their camera tracks with their phone models (proxkit simulate --scenario epfl-NAME). Both are scored against the same truth, the cameras' time within the close distance. Δ = simulated F1 − real F1. See docs/simulator-epfl.md for what the two sides cannot share (scan cadence, the time the cameras lose people, phone placement).",
)}`,
  };
}

/** The whole page. */
export async function renderCampaignReport(
  evaluation: CampaignEvaluation,
  simToReal?: SimToRealResult,
): Promise<string> {
  const render = await svgRenderer();
  const sections = [
    campaignsSection(evaluation),
    await rssiSection(evaluation, render),
    estimatorsSection(evaluation),
    detectorFitsSection(evaluation),
    await contactsSection(evaluation, render),
    await perSampleSection(evaluation, render),
    tramSection(evaluation),
    simToRealSection(simToReal),
    offsetsSection(evaluation),
  ].filter((s): s is Section => s !== undefined);
  const nav = `<nav><b>Sections:</b><ul>${sections
    .map((s) => `<li><a href="#${s.id}">${escapeHtml(s.title)}</a></li>`)
    .join("")}</ul></nav>`;
  const meta = [
    `dataset <b>${escapeHtml(evaluation.dataset)}</b>`,
    `data root <code>${escapeHtml(evaluation.dataRoot)}</code>`,
    `calibration table <code>${escapeHtml(evaluation.calibration)}</code>`,
    `computed in ${escapeHtml(formatDurationS(evaluation.elapsedMs / 1000))}`,
  ].join(" · ");
  const body = sections
    .map((s) => `<section id="${s.id}">\n<h2>${escapeHtml(s.title)}</h2>\n${s.html}\n</section>`)
    .join("\n");
  return htmlPage({
    title: CAMPAIGN_REPORT_TITLE,
    css: CSS + EXTRA_CSS,
    meta,
    intro:
      "How well proxkit's distance estimators and contact detector, and the apps' published presets, do on real measurement campaigns they were not fitted on: each campaign is held out in turn, and every figure has its 95 % interval from a bootstrap of the campaign's independent units.",
    nav,
    body,
  });
}

/** Renders the report into `dir` (created if missing) as `report.html`, atomically; returns its path. */
export async function writeCampaignReport(
  dir: string,
  evaluation: CampaignEvaluation,
  simToReal?: SimToRealResult,
): Promise<string> {
  const html = await renderCampaignReport(evaluation, simToReal);
  prepareOutputFolder(dir, "--report");
  const path = join(dir, "report.html");
  writeFileAtomic(path, html, { what: "report" });
  return path;
}
