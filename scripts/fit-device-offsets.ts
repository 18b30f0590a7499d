/**
 * Fits per-device-model RX and TX offsets on top of Google's calibration table from the DP-3T
 * anechoic pairs (1 m, no multipath; DP-3T/bt-measurements exp25/27/28/29, CC BY-ND 4.0) and
 * writes them to `src/signal/device-offsets.json`, read by `src/signal/device-offsets.ts`.
 * Prints the offsets and the spread of calibrated RSSI at 1 m across pair placements before
 * and after them, in sample and leaving each placement out of its own fit.
 *
 *   npm run build && node dist/scripts/fit-device-offsets.js [--data ../shared/data] [--out <json>]
 */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { CampaignRecord } from "../src/campaigns/campaign-record.js";
import {
  DEVICE_OFFSET_RIDGE_LAMBDA,
  fitDeviceOffsets,
  standardDeviation,
} from "../research/fit-device-offsets.js";
import { loadDp3tAnechoic } from "../src/campaigns/load-dp3t-anechoic.js";
import { repoRoot } from "../src/io/data-root.js";
import { loadCalibrationTable } from "../src/signal/calibration-table.js";

/** The repository root, from `dist/scripts/` or from `scripts/`. */
const ROOT = repoRoot() ?? resolve(".");
const CALIBRATION = "gaen/en-calibration-2020-06-13.csv";

const round = (db: number) => Math.round(db * 100) / 100;

function main(): void {
  const { values } = parseArgs({
    options: {
      data: { type: "string", default: resolve(ROOT, "../shared/data") },
      out: { type: "string", default: join(ROOT, "src/signal/device-offsets.json") },
      lambda: { type: "string", default: String(DEVICE_OFFSET_RIDGE_LAMBDA) },
    },
  });
  const dataDir = resolve(values.data);
  const lambda = Number(values.lambda);
  const table = loadCalibrationTable(join(dataDir, CALIBRATION));
  const calibration = (model: string) => table.lookup(model);
  const records: CampaignRecord[] = [...loadDp3tAnechoic(join(dataDir, "dp3t-epfl"))];
  const fit = fitDeviceOffsets(records, calibration, { lambda });

  // Leave one placement out: each placement's pairs predicted by a fit without it.
  const looResiduals: number[] = [];
  for (const unit of new Set(fit.pairs.map((p) => p.unit))) {
    const other = fitDeviceOffsets(
      records.filter((r) => r.unit !== unit),
      calibration,
      { lambda },
    );
    for (const p of fit.pairs.filter((q) => q.unit === unit)) {
      const rx = other.devices[p.rxModel]?.rxOffsetDb ?? 0;
      const tx = other.devices[p.txModel]?.txOffsetDb ?? 0;
      looResiduals.push(p.calibratedRssiDb + other.attenuationDb - rx - tx);
    }
  }
  const spreadLooDb = standardDeviation(looResiduals);

  const devices = Object.fromEntries(
    Object.entries(fit.devices).map(([model, d]) => [
      model,
      {
        rxOffsetDb: round(d.rxOffsetDb),
        txOffsetDb: round(d.txOffsetDb),
        pairs: d.rxPairs + d.txPairs,
        rxPairs: d.rxPairs,
        txPairs: d.txPairs,
      },
    ]),
  );
  const output = {
    source:
      "DP-3T/bt-measurements exp25, exp27, exp28, exp29 (anechoic chamber, phones 1 m apart back to back; CC BY-ND 4.0, EPFL and ETH Zurich), on top of Google's EN calibration table 2020-06-13; scripts/fit-device-offsets.ts",
    fitted: new Date().toISOString().slice(0, 10),
    model:
      "median(rssi) + rssiCorrection(rx) - txPower(tx) = -A + rxOffset(rx) + txOffset(tx) per directed pair placement; ridge on the offsets, offsets sum to 0 per role",
    ridgeLambda: lambda,
    pairPlacements: fit.pairs.length,
    attenuationAt1mDb: round(fit.attenuationDb),
    spreadRawDb: round(fit.spreadRawDb),
    spreadBeforeDb: round(fit.spreadBeforeDb),
    spreadAfterDb: round(fit.spreadAfterDb),
    spreadLeaveOnePlacementOutDb: round(spreadLooDb),
    devices,
  };
  writeFileSync(values.out, `${JSON.stringify(output, null, 2)}\n`);

  console.log(`${records.length} records, ${fit.pairs.length} directed pair placements at 1 m`);
  console.log(`A (attenuation at 1 m, mean devices) = ${round(fit.attenuationDb)} dB`);
  console.log("model                       rx offset  tx offset  rx/tx pairs");
  for (const [model, d] of Object.entries(devices)) {
    console.log(
      `${model.padEnd(26)} ${d.rxOffsetDb.toFixed(2).padStart(9)}  ${d.txOffsetDb.toFixed(2).padStart(9)}  ${d.rxPairs}/${d.txPairs}`,
    );
  }
  console.log(
    `spread at 1 m across pair placements (SD): raw median RSSI ${round(fit.spreadRawDb)} dB; table-calibrated ${round(fit.spreadBeforeDb)} dB before the offsets, ${round(fit.spreadAfterDb)} dB after (in sample), ${round(spreadLooDb)} dB leaving each placement out`,
  );
  console.log(`wrote ${values.out}`);
}

main();
