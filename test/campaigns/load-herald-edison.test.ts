/**
 * The Herald project's robot-rig recordings (theheraldproject/herald-analysis,
 * reference-data/rssi-raw-edison, Apache-2.0) as campaign records. Counts measured on the files
 * (and with Python's csv module: rows per file, distance runs).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { streamKey } from "../../src/campaigns/campaign-record.js";
import { HERALD_EDISON_FILES, loadHeraldEdison } from "../../src/campaigns/load-herald-edison.js";
import { CodecError, ConfigError } from "../../src/core/errors.js";
import { describeWith, needData, sharedData } from "../support/requirements.js";

const DATA_DIR = sharedData("herald-edison");
const REAL_DATA = needData("herald-edison");

interface FileSummary {
  file: string;
  records: number;
  rx: string;
  tx: string;
  rxModel: string;
  txModel: string;
  /** Distinct distances in order of first appearance, m. */
  distancesM: number[];
  units: number;
  firstMs: number;
  lastMs: number;
}

const TEST5_DISTANCES_M = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3, 0];
const TEST8_DISTANCES_M = [0.2, 0.4, 0.6, 0.8, 1, 1.2, 1.4, 1.6, 1.8, 2, 2.2, 2.4, 2.6, 2.8, 3, 0];
const P2 = "Google Pixel 2";
const A20 = "Samsung SM-A205F";
const N8 = "Samsung SM-N950F";
const EXPECTED: [string, number, string, string, string, string, number[], string, string][] = [
  [
    "20210104-1422-A.csv",
    117912,
    "P2",
    "A20",
    P2,
    A20,
    TEST5_DISTANCES_M,
    "2021-01-04 14:22:03",
    "2021-01-05 10:08:43",
  ],
  [
    "20210104-1422-B.csv",
    91998,
    "A20",
    "P2",
    A20,
    P2,
    TEST5_DISTANCES_M,
    "2021-01-04 14:22:38",
    "2021-01-05 10:08:43",
  ],
  [
    "20210106-0815-A.csv",
    28330,
    "N8",
    "P2",
    N8,
    P2,
    TEST5_DISTANCES_M,
    "2021-01-06 08:15:59",
    "2021-01-06 14:48:22",
  ],
  [
    "20210106-0815-B.csv",
    37926,
    "P2",
    "N8",
    P2,
    N8,
    TEST5_DISTANCES_M,
    "2021-01-06 08:15:57",
    "2021-01-06 14:48:23",
  ],
  [
    "20210106-1501-A.csv",
    35515,
    "N8",
    "P2",
    N8,
    P2,
    TEST8_DISTANCES_M,
    "2021-01-06 15:01:17",
    "2021-01-06 22:51:39",
  ],
  [
    "20210106-1501-B.csv",
    46617,
    "P2",
    "N8",
    P2,
    N8,
    TEST8_DISTANCES_M,
    "2021-01-06 15:01:16",
    "2021-01-06 22:52:21",
  ],
];
const utcMs = (text: string) => Date.parse(`${text.replace(" ", "T")}Z`);

describe("loadHeraldEdison: bad input", () => {
  it("refuses a missing folder, an unlisted file and names the line of a malformed row", () => {
    expect(() => [...loadHeraldEdison("/nonexistent/herald")]).toThrow(ConfigError);
    const dir = mkdtempSync(join(tmpdir(), "proxkit-herald-load-"));
    try {
      writeFileSync(
        join(dir, "metadata.csv"),
        "testid,phoneaname,phonebname,filenamephonea,filenamephoneb\n",
      );
      expect(() => [...loadHeraldEdison(dir)]).toThrow(/20210104-1422-A\.csv is not listed/);
      writeFileSync(
        join(dir, "metadata.csv"),
        "testid,phoneaname,phonebname,filenamephonea,filenamephoneb\n5,P2,A20,20210104-1422-A.csv,20210104-1422-B.csv\n",
      );
      expect(() => [...loadHeraldEdison(dir)]).toThrow(/cannot read the recording/);
      writeFileSync(
        join(dir, "20210104-1422-A.csv"),
        "time,rssi,distance\n2021-01-04 14:22:03,-75.0,25\n2021-01-04 14:22:04,loud,25\n",
      );
      const records = loadHeraldEdison(dir);
      expect(records.next().value).toMatchObject({ rssiDbm: -75, distanceM: 0.25, rxId: "P2" });
      let error: unknown;
      try {
        records.next();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CodecError);
      expect((error as CodecError).code).toBe("E_CAMPAIGN");
      expect((error as CodecError).message).toMatch(/herald-edison\/20210104-1422-A\.csv line 3/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWith(REAL_DATA)("loadHeraldEdison on the rig", () => {
  const summaries: FileSummary[] = [];
  let ordered = true;
  let fieldsOk = true;
  beforeAll(() => {
    let lastKey = "";
    let lastMs = 0;
    const seen = new Set<string>();
    for (const r of loadHeraldEdison(DATA_DIR)) {
      const key = streamKey(r);
      if (key !== lastKey) {
        if (seen.has(key)) ordered = false;
        seen.add(key);
        lastKey = key;
        summaries.push({
          file: r.session,
          records: 0,
          rx: r.rxId,
          tx: r.txId,
          rxModel: r.rxModel,
          txModel: r.txModel,
          distancesM: [],
          units: 0,
          firstMs: r.atMs,
          lastMs: r.atMs,
        });
      } else if (r.atMs < lastMs) ordered = false;
      lastMs = r.atMs;
      const s = summaries[summaries.length - 1];
      s.records++;
      s.lastMs = r.atMs;
      if (!s.distancesM.includes(r.distanceM as number)) {
        s.distancesM.push(r.distanceM as number);
        s.units++;
      }
      if (
        r.campaign !== "herald-edison" ||
        r.unit !== `${r.session}:${r.distanceM}` ||
        r.scenario !== r.session.slice(0, 13) ||
        r.environment !== "rig" ||
        r.rxCarry !== "mount" ||
        r.txCarry !== "mount" ||
        !(r.rssiDbm < 0)
      )
        fieldsOk = false;
    }
  });

  it("streams the six files in order, one time-ordered stream each, counts as measured", () => {
    expect(HERALD_EDISON_FILES).toEqual(EXPECTED.map((e) => e[0]));
    expect(ordered).toBe(true);
    expect(fieldsOk).toBe(true);
    expect(summaries).toEqual(
      EXPECTED.map(([file, records, rx, tx, rxModel, txModel, distancesM, first, last]) => ({
        file,
        records,
        rx,
        tx,
        rxModel,
        txModel,
        distancesM,
        units: distancesM.length,
        firstMs: utcMs(first),
        lastMs: utcMs(last),
      })),
    );
  });
});
