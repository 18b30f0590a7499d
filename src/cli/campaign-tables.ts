/**
 * `evaluate --dataset` as text: the tables of a `CampaignEvaluation`, each preceded by a line
 * saying what it is. Numbers to 3 decimals, intervals as "lo-hi".
 */
import type { SimToRealResult } from "../../research/sim-to-real.js";
import type { CampaignEvaluation } from "../../research/evaluate-campaigns.js";
import type { Estimate95 } from "../../research/unit-bootstrap.js";
import { writeRows } from "./output.js";

const round = (x: number) => (Number.isFinite(x) ? (Math.round(x * 1000) / 1000).toFixed(3) : "-");
const interval = (e: Estimate95) => `${round(e.interval95[0])} to ${round(e.interval95[1])}`;
const withInterval = (e: Estimate95) => `${round(e.value)} (${interval(e)})`;
const told = (e: Estimate95) =>
  e.interval95[0] > 0 || e.interval95[1] < 0 ? "" : " (not told apart)";

/** Writes the evaluation's tables; `only` restricts the per-campaign table to one campaign. */
export function writeCampaignTables(
  evaluation: CampaignEvaluation,
  write: (text: string) => void = (text) => process.stdout.write(text),
): void {
  const only = evaluation.dataset === "all" ? undefined : evaluation.dataset;
  const section = (title: string) => write(`\n${title}\n`);
  const table = (rows: Record<string, string | number>[], columns: string[]) =>
    writeRows(rows, "table", columns, write);

  section("Campaigns (../shared/data): records read, streams, scored instants, bootstrap units");
  table(
    evaluation.campaigns
      .filter((c) => !only || c.name === only || c.role === "estimators")
      .map((c) => ({
        campaign: c.name,
        role: c.role,
        records: c.records,
        streams: c.streams,
        instants: c.instants,
        units: c.units,
        rssi_1m_dbm: c.pathLoss ? round(c.pathLoss.rssiAt1mDbm) : "",
        exponent: c.pathLoss ? round(c.pathLoss.exponent) : "",
        residual_db: c.pathLoss ? round(c.pathLoss.residualDb) : "",
      })),
    [
      "campaign",
      "role",
      "records",
      "streams",
      "instants",
      "units",
      "rssi_1m_dbm",
      "exponent",
      "residual_db",
    ],
  );

  const { estimators } = evaluation;
  const heldOut = estimators.campaigns.filter((c) => !only || c.campaign === only);
  if (heldOut.length > 0) {
    section(
      "Distance estimators, leave one campaign out: fitted on the other campaigns, scored on this one (95 % intervals resample units)",
    );
    const rows: Record<string, string | number>[] = [];
    for (const c of heldOut) {
      for (const e of c.estimators) {
        rows.push({
          campaign: c.campaign,
          estimator: e.estimator,
          mae_m: withInterval(e.maeM),
          auc_2m: withInterval(e.decisions[0].auc),
          balanced_accuracy_2m: withInterval(e.decisions[0].balancedAccuracy),
          auc_1_5m: e.decisions[1] ? withInterval(e.decisions[1].auc) : "",
        });
      }
      if (c.hindsight)
        rows.push({
          campaign: c.campaign,
          estimator: `(${c.hindsight.estimator} fitted on this campaign: a bound)`,
          mae_m: round(c.hindsight.maeM),
          auc_2m: "",
          balanced_accuracy_2m: round(c.hindsight.balancedAccuracy),
          auc_1_5m: "",
        });
      rows.push({
        campaign: c.campaign,
        estimator: `(prior: ${round(c.priorOnly.distanceM)} m always)`,
        mae_m: round(c.priorOnly.maeM),
        auc_2m: "0.500",
        balanced_accuracy_2m: "0.500",
        auc_1_5m: "0.500",
      });
    }
    if (!only) {
      for (const p of estimators.pooled)
        rows.push({
          campaign: "pooled",
          estimator: p.estimator,
          mae_m: withInterval(p.maeM),
          auc_2m: withInterval(p.decisions[0].auc),
          balanced_accuracy_2m: withInterval(p.decisions[0].balancedAccuracy),
          auc_1_5m: p.decisions[1] ? withInterval(p.decisions[1].auc) : "",
        });
      if (estimators.hindsightMaeM !== undefined)
        rows.push({
          campaign: "pooled",
          estimator: `(${estimators.pooled[0]?.estimator} fitted on each campaign: a bound)`,
          mae_m: round(estimators.hindsightMaeM),
          auc_2m: "",
          balanced_accuracy_2m: "",
          auc_1_5m: "",
        });
      rows.push({
        campaign: "pooled",
        estimator: "(prior: training median)",
        mae_m: round(estimators.priorOnlyMaeM),
        auc_2m: "0.500",
        balanced_accuracy_2m: "0.500",
        auc_1_5m: "0.500",
      });
    }
    table(rows, ["campaign", "estimator", "mae_m", "auc_2m", "balanced_accuracy_2m", "auc_1_5m"]);
    if (!only) {
      for (const d of estimators.aucDifferences)
        write(
          `pooled AUC (2 m), ${d.estimator} minus ${d.versus}: ${round(d.difference.value)}, 95 % interval ${interval(d.difference)}${told(d.difference)}\n`,
        );
    }
  }

  if (evaluation.exp05) {
    const fit = evaluation.detectorFits.find((f) => f.heldOut === "dp3t-exp05");
    section(
      `DP-3T exp05 contact decisions per directed pair against the cameras (our detector fitted on the other campaigns: ${round(fit?.closeAttenuationDb ?? Number.NaN)} dB, scale ${round(fit?.closeScaleDb ?? Number.NaN)} dB)`,
    );
    for (const c of evaluation.exp05.contacts) {
      write(
        `within ${c.closeDistanceM} m for at least ${c.closeMinutes} min: ${c.closeContacts} of ${c.pairs} directed pairs\n`,
      );
      table(
        c.detectors.map((d) => ({
          detector: d.detector,
          notified: d.notified,
          precision: round(d.precision.value),
          recall: round(d.recall.value),
          f1: withInterval(d.f1),
          auc: withInterval(d.auc),
        })),
        ["detector", "notified", "precision", "recall", "f1", "auc"],
      );
      for (const d of c.f1Differences)
        write(
          `F1, ${d.detector} minus ${d.versus}: ${round(d.difference.value)}, 95 % interval ${interval(d.difference)}${told(d.difference)}\n`,
        );
    }
    const s = evaluation.exp05.perSample;
    section(
      `DP-3T exp05 per sample (${s.samples} samples, ${round(s.closeShare)} of them under ${s.closeDistanceM} m): an attenuation threshold, as the DP-3T team plotted it`,
    );
    table(
      [
        {
          rule: `attenuation <= ${s.bestThreshold.thresholdDb} dB (best F1)`,
          ...prf(s.bestThreshold),
        },
        { rule: `attenuation <= ${s.at55Db.thresholdDb} dB`, ...prf(s.at55Db) },
        { rule: "always close", ...prf(s.alwaysClose) },
        {
          rule: `${s.estimator.name} estimate < ${s.closeDistanceM} m`,
          precision: round(s.estimator.precision),
          recall: round(s.estimator.recall),
          f1: withInterval(s.estimator.f1),
        },
      ],
      ["rule", "precision", "recall", "f1"],
    );
    write(
      `AUC of "under ${s.closeDistanceM} m" per sample: attenuation ${withInterval(s.attenuationAuc)}, ${s.estimator.name} ${withInterval(s.estimator.auc)}\n`,
    );
  }

  if (evaluation.dublinTram) {
    const t = evaluation.dublinTram;
    section(
      "Dublin tram: notify per handset pair, close = within 2 m (Leith & Farrell 2020); intervals resample seat pairs",
    );
    table(
      [
        {
          preset: `proxkit (fitted on the other campaigns: ${round(t.detector.closeAttenuationDb)} dB)`,
          notifications: t.detector.notifications,
          tpr: round(t.detector.tpr),
          fpr: round(t.detector.fpr),
          balanced_accuracy: `${round(t.detector.balancedAccuracy)} (${round(t.detector.balancedAccuracy95[0])}-${round(t.detector.balancedAccuracy95[1])})`,
        },
        ...t.evaluation.results.map((r) => {
          const figures = r.crossValidated ?? r;
          return {
            preset: r.crossValidated
              ? `${r.preset} (fitted on the tram, leave one handset out)`
              : r.preset,
            notifications: figures.notifications,
            tpr: round(figures.tpr),
            fpr: round(figures.fpr),
            balanced_accuracy: `${round(figures.balancedAccuracy)} (${round(r.balancedAccuracy95[0])}-${round(r.balancedAccuracy95[1])})`,
          };
        }),
      ],
      ["preset", "notifications", "tpr", "fpr", "balanced_accuracy"],
    );
  }

  if (!only || only === "dp3t-anechoic") {
    const o = evaluation.offsets;
    section(
      `Device offsets on top of Google's table, fitted on the DP-3T anechoic pairs (${o.pairPlacements} pair placements at 1 m; spread of RSSI at 1 m ${round(o.spreadBeforeDb)} dB after the table, ${round(o.spreadLeaveOnePlacementOutDb)} dB after the offsets, each placement left out of its own fit)`,
    );
    table(
      Object.entries(o.devices).map(([model, d]) => ({
        model,
        rx_offset_db: round(d.rxOffsetDb),
        tx_offset_db: round(d.txOffsetDb),
      })),
      ["model", "rx_offset_db", "tx_offset_db"],
    );
    if (o.refit)
      write(
        `refitted now from the anechoic records: spread ${round(o.refit.spreadBeforeDb)} dB before, ${round(o.refit.spreadAfterDb)} dB after (in sample); largest change from the committed offsets ${round(o.refit.maxChangeDb)} dB\n`,
      );
  }
  write(`\n${Math.round(evaluation.elapsedMs / 100) / 10} s\n`);
}

function prf(p: { precision: number; recall: number; f1: number }) {
  return { precision: round(p.precision), recall: round(p.recall), f1: round(p.f1) };
}

/**
 * The sim-to-real table of `evaluate --sim-to-real`: per `epfl-*` scenario and rule, the real
 * F1, the simulated F1 (mean over the seeds) and their difference, then the per-rule means,
 * the rank correlations and the issue's targets.
 */
export function writeSimToRealTables(
  result: SimToRealResult,
  write: (text: string) => void = (text) => process.stdout.write(text),
): void {
  const r3 = (x: number | null) => (x === null ? "-" : round(x));
  const signed = (x: number) => (x > 0 ? `+${round(x)}` : round(x));
  write(
    `\nsim-to-real: F1 on the simulated epfl-* replay (mean of seeds ${result.seeds.join(", ")}) against F1 on the real exp05 recording of the same crowd; close = within ${result.closeDistanceM} m for ${result.closeMinutes} min, directed pairs\n`,
  );
  const columns = ["rule", ...result.scenarios.map((s) => s.scenario), "mean_abs_delta"];
  writeRows(
    result.rules.map((rule, r) => {
      const row: Record<string, string> = { rule };
      for (const s of result.scenarios) {
        const x = s.rules[r];
        row[s.scenario] = `${round(x.realF1)} / ${round(x.simF1)} (${signed(x.deltaF1)})`;
      }
      row.mean_abs_delta = round(result.byRule[r].meanAbsDeltaF1);
      return row;
    }),
    "table",
    columns,
    write,
  );
  write("cells: real F1 / sim F1 (sim - real)\n");
  writeRows(
    result.scenarios.map((s) => ({
      scenario: s.scenario,
      rank_correlation: r3(s.rankCorrelation),
      real_close: s.truth ? `${s.truth.realCloseContacts} / ${s.truth.realPairs}` : "",
      sim_close: s.truth ? `${s.truth.simCloseContacts} / ${s.truth.simPairs}` : "",
      close_both: s.truth?.closeOnBoth ?? "",
      real_only: s.truth?.closeRealOnly ?? "",
      sim_only: s.truth?.closeSimOnly ?? "",
    })),
    "table",
    [
      "scenario",
      "rank_correlation",
      "real_close",
      "sim_close",
      "close_both",
      "real_only",
      "sim_only",
    ],
    write,
  );
  const t = result.targets;
  const worst = result.byRule.reduce((a, b) => (b.meanAbsDeltaF1 > a.meanAbsDeltaF1 ? b : a));
  write(
    `rank correlation of the rules (Spearman): mean over scenarios ${r3(result.meanRankCorrelation)}, pooled over scenario x rule ${r3(result.pooledRankCorrelation)}, of the rules' mean F1 ${r3(result.meanF1RankCorrelation)}\n` +
      `targets: mean |dF1| <= ${t.maxMeanAbsDeltaF1} for every rule: ${t.deltaMet ? "met" : `not met (worst ${worst.rule} ${round(worst.meanAbsDeltaF1)})`}; rank correlation >= ${t.minRankCorrelation}: ${t.rankMet ? "met" : "not met"}\n`,
  );
}
