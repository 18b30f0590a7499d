import { expect, it } from "vitest";
import { compareWithRig, formatFitTable } from "../../research/fit-propagation.js";
import { readHeraldEdison } from "../../src/campaigns/herald-edison-files.js";
import { describeWith, needData, sharedData } from "../support/requirements.js";

const dataDir = sharedData("herald-edison");
const REAL_DATA = needData("herald-edison/metadata.csv");

describeWith(REAL_DATA)("propagation defaults vs the Herald edison rig", () => {
  it("simulated median and IQR per distance stay close to the real ones", () => {
    const files = readHeraldEdison(dataDir);
    expect(files.length).toBeGreaterThanOrEqual(6);
    const c = compareWithRig(files, undefined, { replicates: 4 });
    const table = formatFitTable(c);
    expect(table.split("\n").length).toBe(c.rows.length + 1);
    expect(c.rows.length).toBeGreaterThanOrEqual(20);
    // Residuals of the fit (documented in fit-propagation.ts): 4.2 dB and 2.7 dB at 16 replicates.
    expect(c.medianRmsDb).toBeLessThan(5.5);
    expect(c.iqrRmsDb).toBeLessThan(4.5);
    const apart = c.rows.filter((r) => r.distanceM > 0);
    const meanBias = apart.reduce((s, r) => s + r.simMedianDbm - r.realMedianDbm, 0) / apart.length;
    expect(Math.abs(meanBias)).toBeLessThan(1.5);
    expect(c.simWithinIqrDb).toBeCloseTo(c.realWithinIqrDb, 0);
  });
});
