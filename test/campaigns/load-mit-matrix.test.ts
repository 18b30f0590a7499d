import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { streamKey } from "../../src/campaigns/campaign-record.js";
import {
  loadMitMatrix,
  MIT_FOLDER_CARRY,
  MIT_MATRIX_SOURCE,
  mitEnvironment,
} from "../../src/campaigns/load-mit-matrix.js";
import { CodecError, ConfigError } from "../../src/core/errors.js";
import { describeWith, needData, sharedData } from "../support/requirements.js";

/** mitll/MIT-Matrix-Data beside the repository. */
const DATA_DIR = sharedData("mit-matrix");
const REAL_DATA = needData("mit-matrix");

/** What one pass over the real logs saw (the campaign is too big to keep every record). */
interface Summary {
  perScenario: Map<string, number>;
  total: number;
  sessions: Set<string>;
  units: Set<string>;
  streams: number;
  problems: string[];
  distancesM: Set<number>;
  rssiMin: number;
  rssiMax: number;
  txPowers: Map<number | undefined, number>;
  /** scenario -> "rxCarry<-txCarry" values seen. */
  carries: Map<string, Set<string>>;
  /** scenario -> environments seen. */
  environments: Map<string, Set<string>>;
  /** scenario -> "rxModel<-txModel" values seen. */
  models: Map<string, Set<string>>;
  first: unknown;
}

function summarize(dataDir: string): Summary {
  const s: Summary = {
    perScenario: new Map(),
    total: 0,
    sessions: new Set(),
    units: new Set(),
    streams: 0,
    problems: [],
    distancesM: new Set(),
    rssiMin: 0,
    rssiMax: -200,
    txPowers: new Map(),
    carries: new Map(),
    environments: new Map(),
    models: new Map(),
    first: undefined,
  };
  const finished = new Set<string>();
  let current = "";
  let lastMs = Number.NEGATIVE_INFINITY;
  const add = (map: Map<string, Set<string>>, key: string, value: string) => {
    const set = map.get(key) ?? new Set<string>();
    set.add(value);
    map.set(key, set);
  };
  for (const r of loadMitMatrix(dataDir)) {
    if (s.total === 0) s.first = r;
    s.total++;
    s.perScenario.set(r.scenario, (s.perScenario.get(r.scenario) ?? 0) + 1);
    s.sessions.add(r.session);
    s.units.add(r.unit);
    const key = streamKey(r);
    if (key !== current) {
      if (finished.has(key)) s.problems.push(`stream reappears: ${key}`);
      finished.add(current);
      current = key;
      lastMs = Number.NEGATIVE_INFINITY;
      s.streams++;
    }
    if (r.atMs < lastMs) s.problems.push(`time goes back in ${key} at ${r.atMs}`);
    lastMs = r.atMs;
    s.distancesM.add(r.distanceM!);
    s.rssiMin = Math.min(s.rssiMin, r.rssiDbm);
    s.rssiMax = Math.max(s.rssiMax, r.rssiDbm);
    s.txPowers.set(r.txPowerDbm, (s.txPowers.get(r.txPowerDbm) ?? 0) + 1);
    add(s.carries, r.scenario, `${r.rxCarry}<-${r.txCarry}`);
    add(s.environments, r.scenario, r.environment);
    add(s.models, r.scenario, `${r.rxModel}<-${r.txModel}`);
  }
  return s;
}

describeWith(REAL_DATA)("loadMitMatrix on the real logs", () => {
  let s: Summary;
  beforeAll(() => {
    s = summarize(DATA_DIR);
  }, 30_000);

  it("counts one reading per advertising event, valid RSSI only", () => {
    // Counted independently with python: BlueProxTx lines, RSSI < 0, sorted by time, a
    // reading dropped when within 5 ms of the last kept one of the same uuid.
    expect(Object.fromEntries(s.perScenario)).toEqual({
      FrontPantsPocketUP_FrontPantsPocketUP: 12656,
      FrontPantsPocketUP_PurseDOWN: 12456,
      FrontPantsPocketUP_ShirtPocketDOWN: 14717,
      HandDOWN_BackPantsPocketDOWN: 22985,
      HandDOWN_HandDOWN: 11117,
      HandUP_FrontPantsPocketDOWN: 12645,
      HandUP_FrontPantsPocketUP: 15558,
      HandUP_PurseDOWN: 15478,
      PurseUP_HandDOWN: 13442,
      ShirtPocketDOWN_BackPantsPocketDOWN: 12037,
      ShirtPocketUP_BackPantsPocketDOWN: 15607,
      ShirtPocketUP_HandUP: 14584,
      ShirtPocketUP_PurseDOWN: 10741,
    });
    expect(s.total).toBe(184023);
    expect(s.rssiMin).toBe(-104);
    expect(s.rssiMax).toBe(-33);
    expect(Object.fromEntries(s.txPowers)).toEqual({ undefined: 152402, 12: 9761, 8: 21858, 7: 2 });
    expect(MIT_MATRIX_SOURCE).toMatch(/CC BY 4\.0/);
  });

  it("converts Range feet to metres", () => {
    const feet = [...s.distancesM].map((m) => Math.round((m / 0.3048) * 1000) / 1000);
    expect(feet.sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 8, 10, 12, 15]);
    expect(s.distancesM.has(3 * 0.3048)).toBe(true);
  });

  it("has one stream per file, contiguous and in time order; a unit per file and range", () => {
    expect(s.problems.slice(0, 5)).toEqual([]);
    expect(s.sessions.size).toBe(107);
    expect(s.streams).toBe(107);
    // HandDOWN_BackPantsPocketDOWN_6ft_…16.12.42 holds a 6 ft and a 3 ft sweep.
    expect(s.units.size).toBe(108);
  });

  it("reads local log times as UTC-4", () => {
    // FrontPantsPocketUP_FrontPantsPocketUP_10ft: first BlueProxTx at 2020-05-11 12:40:06.223
    // local, iOS time 610908006.221 s after 2001-01-01 UTC.
    expect(s.first).toMatchObject({
      campaign: "mit-matrix",
      scenario: "FrontPantsPocketUP_FrontPantsPocketUP",
      session:
        "FrontPantsPocketUP_FrontPantsPocketUP/FrontPantsPocketUP_FrontPantsPocketUP_10ft_log_2020-05-11_12.40.06.149.txt",
      atMs: Date.parse("2020-05-11T16:40:06.223Z"),
      rssiDbm: -69,
      distanceM: 10 * 0.3048,
      rxId: "receiver:iPhone 8",
      txId: "beacon:iPhone XS",
    });
    expect(Date.parse("2020-05-11T16:40:06.223Z") - (610908006.221 + 978307200) * 1000).toBeCloseTo(
      2,
      0,
    );
  });

  it("takes carry positions that agree with the folder names", () => {
    for (const [scenario, values] of s.carries) {
      const [self, partner] = scenario.split("_").map((p) => p.replace(/(UP|DOWN)$/, ""));
      expect([...values], scenario).toEqual([
        `${MIT_FOLDER_CARRY[self]}<-${MIT_FOLDER_CARRY[partner]}`,
      ]);
    }
    expect(s.carries.size).toBe(13);
  });

  it("maps rooms to environment classes and names the iPhones", () => {
    const environments = Object.fromEntries(
      [...s.environments].map(([k, v]) => [k, [...v].join(",")]),
    );
    expect(environments).toEqual({
      FrontPantsPocketUP_FrontPantsPocketUP: "open-indoor",
      FrontPantsPocketUP_PurseDOWN: "open-indoor",
      FrontPantsPocketUP_ShirtPocketDOWN: "office",
      HandDOWN_BackPantsPocketDOWN: "open-indoor",
      HandDOWN_HandDOWN: "office",
      HandUP_FrontPantsPocketDOWN: "open-indoor",
      HandUP_FrontPantsPocketUP: "open-indoor",
      HandUP_PurseDOWN: "open-indoor",
      PurseUP_HandDOWN: "open-indoor",
      ShirtPocketDOWN_BackPantsPocketDOWN: "open-indoor",
      ShirtPocketUP_BackPantsPocketDOWN: "open-indoor",
      ShirtPocketUP_HandUP: "open-indoor",
      ShirtPocketUP_PurseDOWN: "office",
    });
    const models = Object.fromEntries([...s.models].map(([k, v]) => [k, [...v].join(",")]));
    expect(models).toEqual({
      FrontPantsPocketUP_FrontPantsPocketUP: "Apple iPhone 8<-Apple iPhone XS",
      FrontPantsPocketUP_PurseDOWN: "Apple iPhone 8<-Apple iPhone XS",
      FrontPantsPocketUP_ShirtPocketDOWN: "Apple iPhone XR<-Apple iPhone XR",
      HandDOWN_BackPantsPocketDOWN: "Apple iPhone 6s<-Apple iPhone 6s",
      HandDOWN_HandDOWN: "Apple iPhone 11 Pro Max<-Apple iPhone 11",
      HandUP_FrontPantsPocketDOWN: "Apple iPhone 8<-Apple iPhone XS",
      HandUP_FrontPantsPocketUP: "Apple iPhone 6s<-Apple iPhone 6s",
      HandUP_PurseDOWN: "Apple iPhone 6s<-Apple iPhone 6s",
      PurseUP_HandDOWN: "Apple iPhone XR<-Apple iPhone 11 Pro",
      ShirtPocketDOWN_BackPantsPocketDOWN: "Apple iPhone 11 Pro<-Apple iPhone XR",
      ShirtPocketUP_BackPantsPocketDOWN: "Apple iPhone 6s<-Apple iPhone 6s",
      ShirtPocketUP_HandUP: "Apple iPhone 11 Pro<-Apple iPhone XR",
      ShirtPocketUP_PurseDOWN: "Apple iPhone 11 Pro Max<-Apple iPhone 11",
    });
  });
});

describe("mitEnvironment", () => {
  it("maps halls and open rooms to open-indoor, furnished rooms to office", () => {
    expect(mitEnvironment("hallway", "center congested")).toBe("open-indoor");
    expect(mitEnvironment("large room", "center open")).toBe("open-indoor");
    expect(mitEnvironment("large room", "center congested")).toBe("office");
    expect(mitEnvironment("medium room", "center open")).toBe("office");
    expect(mitEnvironment("garden", "")).toBeUndefined();
  });
});

describe("loadMitMatrix on synthetic logs", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  const HEADER = [
    "2020-05-11 12:00:00.000,scenario,structured_Test Protocol Full ",
    "2020-05-11 12:00:00.001,environment,large room,center open",
    "2020-05-11 12:00:00.002,subject,in hand,standing,unknown",
    "2020-05-11 12:00:00.003,beacon, ,iPhone XR",
    "2020-05-11 12:00:00.004,receiver, iPhone 8,iPhone",
    "2020-05-11 12:00:00.005,beacon_subject,in purse,sitting",
    "2020-05-11 12:00:00.006,Range,5",
    "2020-05-11 12:00:00.007,Angle,0",
  ];
  const U = "BADD9AD5-0C37-790E-5812-68C25DCE46CA";

  function makeLog(lines: string[]): string {
    dir = mkdtempSync(join(tmpdir(), "proxkit-mit-"));
    mkdirSync(join(dir, "HandUP_PurseDOWN"));
    writeFileSync(join(dir, "HandUP_PurseDOWN", "a_5ft_log.txt"), `${lines.join("\r\n")}\r\n`);
    return join(dir, "HandUP_PurseDOWN", "a_5ft_log.txt");
  }

  it("refuses a missing folder and a folder without carry pairs", () => {
    expect(() => [...loadMitMatrix("/nonexistent/mit-matrix")]).toThrow(ConfigError);
    dir = mkdtempSync(join(tmpdir(), "proxkit-mit-"));
    expect(() => [...loadMitMatrix(dir!)]).toThrow(/no <self>_<partner> carry-pair folders/);
  });

  it("keeps the first reading of each advertising event and skips RSSI 127", () => {
    makeLog([
      ...HEADER,
      `2020-05-11 12:00:01.000,Bluetooth,${U},127,BlueProxTx,-999.0,1.0`,
      `2020-05-11 12:00:01.001,Bluetooth,${U},-60,BlueProxTx,-999.0,1.0`,
      `2020-05-11 12:00:01.003,Bluetooth,${U},-62,BlueProxTx,-999.0,1.0`,
      `2020-05-11 12:00:01.004,Bluetooth,OTHER,-50,SomeHeadphones,8.0,1.0`,
      `2020-05-11 12:00:01.030,Bluetooth,${U},-61,BlueProxTx,8.0,1.0`,
      "2020-05-11 12:00:01.031,Accelerometer,0.1,0.2,0.3",
      "2020-05-11 12:00:02.000,Range,3",
      `2020-05-11 12:00:02.100,Bluetooth,${U},-55,BlueProxTx,-999.0,1.0`,
    ]);
    const records = [...loadMitMatrix(dir!)];
    expect(records.map((r) => [r.atMs, r.rssiDbm, r.txPowerDbm, r.distanceM])).toEqual([
      [Date.parse("2020-05-11T16:00:01.001Z"), -60, undefined, 5 * 0.3048],
      [Date.parse("2020-05-11T16:00:01.030Z"), -61, 8, 5 * 0.3048],
      [Date.parse("2020-05-11T16:00:02.100Z"), -55, undefined, 3 * 0.3048],
    ]);
    expect(records[0]).toMatchObject({
      rxModel: "Apple iPhone 8",
      txModel: "Apple iPhone XR",
      rxCarry: "hand",
      txCarry: "bag",
      environment: "open-indoor",
      unit: "HandUP_PurseDOWN/a_5ft_log.txt@5ft",
    });
    expect(records[2].unit).toBe("HandUP_PurseDOWN/a_5ft_log.txt@3ft");
  });

  it("names the file and line of a malformed reading", () => {
    const path = makeLog([
      ...HEADER,
      `2020-05-11 12:00:01.000,Bluetooth,${U},x,BlueProxTx,-999.0,1.0`,
    ]);
    let error: unknown;
    try {
      [...loadMitMatrix(dir!)];
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).code).toBe("E_CAMPAIGN");
    expect((error as Error).message).toBe(`${path} line 9: rssi is not a number: "x"`);
  });

  it("refuses a reading before any Range line and a bad timestamp", () => {
    makeLog([HEADER[1], `2020-05-11 12:00:01.000,Bluetooth,${U},-60,BlueProxTx,-999.0,1.0`]);
    expect(() => [...loadMitMatrix(dir!)]).toThrow(/line 2: a reading before any Range line/);
    rmSync(dir!, { recursive: true, force: true });
    makeLog([...HEADER, `yesterday,Bluetooth,${U},-60,BlueProxTx,-999.0,1.0`]);
    expect(() => [...loadMitMatrix(dir!)]).toThrow(/line 9: bad timestamp "yesterday"/);
  });
});
