import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CampaignRecord, streamKey } from "../../src/campaigns/campaign-record.js";
import {
  loadPiMultichannel,
  PI_MULTICHANNEL_ROW_INTERVAL_MS,
  PI_MULTICHANNEL_SOURCE,
} from "../../src/campaigns/load-pi-multichannel.js";
import { CodecError, ConfigError } from "../../src/core/errors.js";
import { describeWith, needData, sharedData } from "../support/requirements.js";

/** elanfer/multi-channel-paper-data beside the repository. */
const DATA_DIR = sharedData("pi-multichannel");
const REAL_DATA = needData("pi-multichannel");

const HEADER = "distance,rssiBLE,rssi24,freq24,rssi5,freq5,y";

function countBy(records: readonly CampaignRecord[], key: (r: CampaignRecord) => string) {
  const counts: Record<string, number> = {};
  for (const r of records) counts[key(r)] = (counts[key(r)] ?? 0) + 1;
  return counts;
}

describeWith(REAL_DATA)("loadPiMultichannel on the real files", () => {
  let records: CampaignRecord[];
  beforeAll(() => {
    records = [...loadPiMultichannel(DATA_DIR)];
  });

  it("reads every row of every table (no BLE value is missing)", () => {
    // Counted independently (python over the files: data rows per table).
    expect(countBy(records, (r) => r.session)).toEqual({
      "bus/measurement_section/OnePlus": 202,
      "bus/measurement_section/Pi": 218,
      "bus/measurement_section/iPhone": 264,
      "bus/scenarios/OnePlus": 182,
      "bus/scenarios/Pi": 181,
      "bus/scenarios/iPhone": 177,
      "office/measurement_section/OnePlus": 2821,
      "office/measurement_section/Pi": 3502,
      "office/measurement_section/iPhone": 2938,
      "office/scenarios/OnePlus": 682,
      "office/scenarios/OnePlus#2": 1021,
      "office/scenarios/Pi": 964,
      "office/scenarios/iPhone": 1117,
      "parking/OnePlus": 298,
      "parking/Pi": 305,
      "parking/iPhone": 318,
      "train/OnePlus": 791,
      "train/Pi": 605,
      "train/iPhone": 804,
    });
    expect(records.length).toBe(17390);
    expect(countBy(records, (r) => r.scenario)).toEqual({
      "bus/measurement_section": 684,
      "bus/scenarios": 540,
      "office/measurement_section": 9261,
      "office/scenarios": 3784,
      parking: 921,
      train: 2200,
    });
    const rssi = records.map((r) => r.rssiDbm);
    expect([Math.min(...rssi), Math.max(...rssi)]).toEqual([-92, -7]);
    expect(PI_MULTICHANNEL_SOURCE).toMatch(/CC BY-SA 4\.0/);
  });

  it("gives distances in metres", () => {
    const distances = [...new Set(records.map((r) => r.distanceM!))].sort((a, b) => a - b);
    expect(distances).toEqual([
      0.45, 0.5, 0.9, 1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.95, 2, 2.1, 2.3, 2.4, 2.5, 2.6, 3,
      3.2, 3.5, 3.9, 4, 4.2, 5, 5.4, 6,
    ]);
    expect(new Set(records.map((r) => r.unit)).size).toBe(118);
  });

  it("keeps each table one contiguous stream, rows 1 s apart", () => {
    const problems: string[] = [];
    const finished = new Set<string>();
    let current = "";
    let lastMs = Number.NEGATIVE_INFINITY;
    for (const r of records) {
      const key = streamKey(r);
      if (key !== current) {
        if (finished.has(key)) problems.push(`stream reappears: ${key}`);
        finished.add(current);
        current = key;
        if (r.atMs !== 0) problems.push(`${key} starts at ${r.atMs}`);
      } else if (r.atMs !== lastMs + PI_MULTICHANNEL_ROW_INTERVAL_MS) {
        problems.push(`${key}: ${lastMs} then ${r.atMs}`);
      }
      lastMs = r.atMs;
    }
    finished.add(current);
    expect(problems.slice(0, 5)).toEqual([]);
    expect(finished.size - 1).toBe(19);
    expect(PI_MULTICHANNEL_ROW_INTERVAL_MS).toBe(1000);
  });

  it("maps environments, devices and carry positions", () => {
    expect(countBy(records, (r) => `${r.scenario.split("/")[0]} ${r.environment}`)).toEqual({
      "bus vehicle": 1224,
      "office office": 13045,
      "parking outdoor": 921,
      "train vehicle": 2200,
    });
    const devices = new Set(
      records.map(
        (r) => `${r.rxId} ${r.rxModel} ${r.rxCarry} <- ${r.txId} ${r.txModel} ${r.txCarry}`,
      ),
    );
    expect([...devices].sort()).toEqual([
      "receiver-pi Raspberry Pi 4 mount <- OnePlus OnePlus Nord N10 5G unknown",
      "receiver-pi Raspberry Pi 4 mount <- Pi Raspberry Pi 4 mount",
      "receiver-pi Raspberry Pi 4 mount <- iPhone Apple iPhone 6s unknown",
    ]);
  });

  it("reads the second OnePlus office table's rssi column as BLE", () => {
    const second = records.filter((r) => r.session === "office/scenarios/OnePlus#2");
    // Rows 685-687: very_close,-72,2427,... / -76 / -76, all at 90 cm.
    expect(second.slice(0, 3).map((r) => [r.rssiDbm, r.distanceM, r.atMs])).toEqual([
      [-72, 0.9, 0],
      [-76, 0.9, 1000],
      [-76, 0.9, 2000],
    ]);
    expect(second[0].unit).toBe("office/scenarios/OnePlus@90cm");
  });
});

describe("loadPiMultichannel on synthetic files", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function makeFile(relative: string, lines: string[]): string {
    dir ??= mkdtempSync(join(tmpdir(), "proxkit-pi-"));
    const path = join(dir, "data", relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${lines.join("\n")}\n`);
    return path;
  }

  it("refuses a missing folder and an unknown environment", () => {
    expect(() => [...loadPiMultichannel("/nonexistent/pi")]).toThrow(ConfigError);
    makeFile("moon/Pi.csv", [HEADER, "50,-40,0,0,0,0,very_close"]);
    expect(() => [...loadPiMultichannel(dir!)]).toThrow(/unknown pi-multichannel environment/);
  });

  it("skips missing BLE values but keeps their row slot", () => {
    makeFile("parking/iPhone.csv", [
      HEADER,
      "50,-40,-30,2422,0,0,very_close",
      "50,0,-30,2422,0,0,very_close",
      "50,,-30,2422,0,0,very_close",
      "100,-50,-30,2422,-40,5180,very_close",
    ]);
    const records = [...loadPiMultichannel(dir!)];
    expect(records.map((r) => [r.atMs, r.rssiDbm, r.distanceM, r.unit])).toEqual([
      [0, -40, 0.5, "parking/iPhone@50cm"],
      [3000, -50, 1, "parking/iPhone@100cm"],
    ]);
    expect(records[0]).toMatchObject({ environment: "outdoor", txModel: "Apple iPhone 6s" });
  });

  it("names the file and line of a malformed row", () => {
    const path = makeFile("bus/scenarios/Pi.csv", [HEADER, "50,-40,0,0,0,0,x", "50,abc,0,0,0,0,x"]);
    let error: unknown;
    try {
      [...loadPiMultichannel(dir!)];
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).code).toBe("E_CAMPAIGN");
    expect((error as Error).message).toBe(`${path} line 3: rssiBLE is not a number: "abc"`);
  });

  it("refuses rows before a header and a bad distance", () => {
    makeFile("train/Pi.csv", ["50,-40,0,0,0,0,x"]);
    expect(() => [...loadPiMultichannel(dir!)]).toThrow(/line 1: expected a header/);
    rmSync(dir!, { recursive: true, force: true });
    dir = undefined;
    makeFile("train/Pi.csv", [HEADER, "-5,-40,0,0,0,0,x"]);
    expect(() => [...loadPiMultichannel(dir!)]).toThrow(/line 2: distance is not a positive/);
  });
});
