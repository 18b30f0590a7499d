import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CampaignRecord, streamKey } from "../../src/campaigns/campaign-record.js";
import {
  BODY_POSITION_CONDITIONS,
  BODY_POSITION_SOURCE,
  loadBodyPosition,
} from "../../src/campaigns/load-body-position.js";
import { CodecError, ConfigError } from "../../src/core/errors.js";
import { loadCalibrationTable } from "../../src/signal/calibration-table.js";
import { describeWith, needData, sharedData } from "../support/requirements.js";

/** pc-ng/rss_smartphone beside the repository. */
const DATA_DIR = sharedData("body-position");
const GAEN_TABLE = sharedData("gaen/en-calibration-2020-06-13.csv");
const REAL_DATA = needData("body-position");

const HEADER = "device,elapsed,rss,mRSS10,mRSS100,dist,label";

describeWith(REAL_DATA)("loadBodyPosition on the real files", () => {
  let records: CampaignRecord[];
  beforeAll(() => {
    records = [...loadBodyPosition(DATA_DIR)];
  });

  it("reads every row once, except PocketPocket's pasted copy of 875 rows", () => {
    // Counted independently (python csv module over the files; README totals for the first).
    const perCondition = new Map<string, number>();
    for (const r of records) perCondition.set(r.scenario, (perCondition.get(r.scenario) ?? 0) + 1);
    expect(Object.fromEntries(perCondition)).toEqual({
      HandHand: 19903,
      HandPocket: 16081,
      HandBackpack: 10330,
      PocketPocket: 24151 - 875,
      PocketBackpack: 19161,
      BackpackBackpack: 34092,
    });
    expect(records.length).toBe(122843);
    expect(BODY_POSITION_SOURCE).toMatch(/MIT/);
  });

  it("gives distances in metres: 0.2-2 m in 0.2 m steps and 3-5 m", () => {
    const distances = [...new Set(records.map((r) => r.distanceM))].sort((a, b) => a! - b!);
    expect(distances).toEqual([0.2, 0.4, 0.6, 0.8, 1, 1.2, 1.4, 1.6, 1.8, 2, 3, 4, 5]);
    const pocket500 = records.filter((r) => r.session === "PocketPocket/500cm").length;
    expect(pocket500).toBe(3520);
    expect(records.filter((r) => r.session === "HandPocket/500cm").length).toBe(56);
    expect(records.filter((r) => r.session === "HandHand/140cm").length).toBe(4568);
  });

  it("keeps streams contiguous and in time order, one placement per session and unit", () => {
    const finished = new Set<string>();
    const problems: string[] = [];
    let current = "";
    let lastMs = Number.NEGATIVE_INFINITY;
    for (const r of records) {
      const key = streamKey(r);
      if (key !== current) {
        if (finished.has(key)) problems.push(`stream reappears: ${key}`);
        finished.add(current);
        current = key;
        lastMs = Number.NEGATIVE_INFINITY;
      }
      if (r.atMs < lastMs) problems.push(`time goes back in ${key} at ${r.atMs}`);
      lastMs = r.atMs;
      if (r.unit !== r.session) problems.push(`unit ${r.unit} is not the session`);
      if (r.session !== `${r.scenario}/${Math.round(r.distanceM! * 100)}cm`)
        problems.push(`session ${r.session} at ${r.distanceM} m`);
    }
    finished.add(current);
    expect(problems.slice(0, 5)).toEqual([]);
    // HH 25, HP 25, HB 26, PP 26, PB 23, BB 26 (device, distance) blocks.
    expect(finished.size - 1).toBe(151);
  });

  it("reads elapsed seconds as ms and rss as dBm", () => {
    const first = records[0];
    expect(first).toMatchObject({
      campaign: "body-position",
      scenario: "HandHand",
      session: "HandHand/20cm",
      txId: "gryphonelab",
      rxId: "HTC One M9",
      rssiDbm: -53,
      atMs: 2891070,
      environment: "office",
    });
    const rssi = records.map((r) => r.rssiDbm);
    expect(Math.min(...rssi)).toBe(-116);
    expect(Math.max(...rssi)).toBe(-29);
  });

  it("maps the carry positions from the folder names", () => {
    const carries = new Map<string, string>();
    for (const r of records) carries.set(`${r.scenario} ${r.txId}`, `${r.txCarry}<-${r.rxCarry}`);
    expect(Object.fromEntries(carries)).toEqual({
      "HandHand gryphonelab": "hand<-hand",
      "HandHand HTC One M9": "hand<-hand",
      "HandPocket gryphonelab": "hand<-pocket",
      "HandPocket HTC One M9": "pocket<-hand",
      "HandBackpack ASUS_Z00AD": "hand<-bag",
      "HandBackpack N8": "bag<-hand",
      "PocketPocket gryphonelab": "pocket<-pocket",
      "PocketPocket HTC One M9": "pocket<-pocket",
      "PocketBackpack ASUS_Z00AD": "pocket<-bag",
      "PocketBackpack N8": "bag<-pocket",
      "BackpackBackpack gryphonelab": "bag<-bag",
      "BackpackBackpack HTC One M9": "bag<-bag",
    });
  });

  it("names models as the GAEN calibration table does", () => {
    const table = loadCalibrationTable(GAEN_TABLE);
    const models = new Set(records.flatMap((r) => [r.rxModel, r.txModel]));
    expect([...models].sort()).toEqual(["", "Asus ASUS_Z00AD", "HTC One M9"]);
    expect(table.lookup("HTC One M9").match).toBe("model");
    expect(table.lookup("Asus ASUS_Z00AD").match).toBe("model");
  });
});

describe("loadBodyPosition on synthetic files", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** A data folder with every condition file; `rows` replaces HandHand's rows. */
  function makeData(handHandRows: string[]): string {
    dir = mkdtempSync(join(tmpdir(), "proxkit-body-"));
    for (const { condition, file } of BODY_POSITION_CONDITIONS) {
      mkdirSync(join(dir, condition));
      const rows =
        condition === "HandHand"
          ? handHandRows
          : ["a,1.0,-60,0,0,20,1", "b,2.0,-61,0,0,20,1", "a,3.0,-62,0,0,40,1"];
      writeFileSync(join(dir, condition, file), `${[HEADER, ...rows].join("\r\n")}\r\n`);
    }
    return dir;
  }

  it("refuses a missing folder or file", () => {
    expect(() => [...loadBodyPosition("/nonexistent/body-position")]).toThrow(ConfigError);
    const data = makeData(["a,1,-60,0,0,20,1", "b,1,-60,0,0,20,1"]);
    rmSync(join(data, "PocketBackpack", "RSS_humanPB.csv"));
    expect(() => [...loadBodyPosition(data)]).toThrow(/RSS_humanPB\.csv does not exist/);
  });

  it("names the file and line of a malformed row", () => {
    const data = makeData(["a,1,-60,0,0,20,1", "b,1,x,0,0,20,1"]);
    let error: unknown;
    try {
      [...loadBodyPosition(data)];
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).code).toBe("E_CAMPAIGN");
    expect((error as Error).message).toBe(
      `${join(data, "HandHand", "RSS_humanHH.csv")} line 3: rss is not a number: "x"`,
    );
  });

  it("refuses a third phone and a wrong header", () => {
    const data = makeData(["a,1,-60,0,0,20,1", "b,1,-60,0,0,20,1", "c,1,-60,0,0,20,1"]);
    expect(() => [...loadBodyPosition(data)]).toThrow(/line 4: a third device "c"/);
    rmSync(data, { recursive: true, force: true });
    const other = makeData([]);
    writeFileSync(join(other, "HandHand", "RSS_humanHH.csv"), "device,rss\n");
    expect(() => [...loadBodyPosition(other)]).toThrow(/line 1: expected the header/);
  });

  it("drops a pasted copy where the clock jumps back, then sorts", () => {
    const data = makeData([
      "a,10.5,-60,0,0,20,1",
      "a,11.5,-61,0,0,20,1",
      // The clock goes back: a second segment that repeats 10.5/-60 and 11.5/-61.
      "a,9.5,-59,0,0,20,1",
      "a,10.5,-60,0,0,20,1",
      "a,11.5,-61,0,0,20,1",
      "b,1,-70,0,0,20,1",
      "b,1,-71,0,0,20,1",
    ]);
    const handHand = [...loadBodyPosition(data)].filter((r) => r.scenario === "HandHand");
    expect(handHand.map((r) => [r.txId, r.atMs, r.rssiDbm])).toEqual([
      ["a", 9500, -59],
      ["a", 10500, -60],
      ["a", 11500, -61],
      // Equal times stay as they are (the rounded HTC clock).
      ["b", 1000, -70],
      ["b", 1000, -71],
    ]);
    expect(handHand[0]).toMatchObject({ rxId: "b", distanceM: 0.2, unit: "HandHand/20cm" });
  });
});
