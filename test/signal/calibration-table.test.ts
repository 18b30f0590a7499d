import { describe, expect, it } from "vitest";
import { CodecError, ConfigError } from "../../src/core/errors.js";
import {
  attenuationDb,
  DEFAULT_DEVICE_CALIBRATION,
  loadCalibrationTable,
  parseCalibrationCsv,
  splitCsvLine,
} from "../../src/signal/calibration-table.js";
import { describeWith, needData, sharedData } from "../support/requirements.js";

/** Google's table beside the repository (`../shared/data/gaen`). */
const TABLE_PATH = sharedData("gaen/en-calibration-2020-06-13.csv");
const REAL_TABLE = needData("gaen/en-calibration-2020-06-13.csv");

/** A few rows in the published format (CRLF, a quoted model, the long header). */
const SAMPLE = [
  "oem,model,rssi correction (android rssi + rssi correction = iphone rssi),tx (as iphone would report for same power),has direct measurement",
  "Google,Pixel 3,-4,-34,yes",
  "Google,Google Pixel Slate,-6,-31,no",
  "Samsung,SM-G960F,-2,-26,yes",
  "Samsung,SM-A205F,-3,-24,no",
  "Samsung,SM-A105F,-3,-24,no",
  "Samsung,SM-N950F,-5,-18,yes",
  'Sharp,"LC-xxUD50H""",-4,-26,no',
  "Essential Products,PH-1,-3,-24,yes",
  "",
].join("\r\n");

describe("splitCsvLine", () => {
  it("splits plain and quoted fields", () => {
    expect(splitCsvLine("a,b,,c")).toEqual(["a", "b", "", "c"]);
    expect(splitCsvLine('x,"a,b","say ""hi"""')).toEqual(["x", "a,b", 'say "hi"']);
  });
});

describe("parseCalibrationCsv", () => {
  const table = parseCalibrationCsv(SAMPLE);

  it("reads every row with its values", () => {
    expect(table.rows).toHaveLength(8);
    expect(table.rows[0]).toEqual({
      oem: "Google",
      model: "Pixel 3",
      rssiCorrectionDb: -4,
      txPowerDbm: -34,
      measured: true,
    });
    expect(table.rows[6].model).toBe("LC-xxUD50H");
  });

  it("finds a device whatever the spelling", () => {
    for (const name of [
      "Samsung SM-G960F",
      "samsung sm-g960f",
      "SM-G960F",
      "  Samsung   SM-G960F ",
      "SM G960F",
      "smg960f",
    ]) {
      expect(table.lookup(name), name).toEqual({
        rssiCorrectionDb: -2,
        txPowerDbm: -26,
        measured: true,
        match: "model",
        device: "Samsung SM-G960F",
      });
    }
    expect(table.lookup("Google Pixel 3").rssiCorrectionDb).toBe(-4);
    expect(table.lookup("pixel 3").txPowerDbm).toBe(-34);
    expect(table.lookup("Pixel Slate").device).toBe("Google Google Pixel Slate");
    expect(table.lookup("Google Pixel Slate").rssiCorrectionDb).toBe(-6);
    expect(table.lookup("Essential Products PH-1").match).toBe("model");
  });

  it("gives an unknown model of a known maker the maker's usual unmeasured values", () => {
    expect(table.lookup("Samsung Galaxy Z Fold")).toEqual({
      rssiCorrectionDb: -3,
      txPowerDbm: -24,
      measured: false,
      match: "oem-default",
    });
    expect(table.lookup("essential products PH-9").match).toBe("oem-default");
  });

  it("treats Apple devices as the table's reference receiver", () => {
    const iphone = table.lookup("Apple iPhone X");
    expect(iphone.match).toBe("apple-reference");
    expect(iphone.rssiCorrectionDb).toBe(0);
    expect(table.lookup("iPhone 12").match).toBe("apple-reference");
  });

  it("gives anything else the documented default", () => {
    expect(table.lookup("Nokia 3310")).toEqual({ ...DEFAULT_DEVICE_CALIBRATION, match: "default" });
    expect(DEFAULT_DEVICE_CALIBRATION).toEqual({
      rssiCorrectionDb: -5,
      txPowerDbm: -24,
      measured: false,
    });
    expect(table.find("Nokia 3310")).toBeUndefined();
  });

  it("rejects a file that is not the calibration table", () => {
    expect(() => parseCalibrationCsv("time,rssi\n1,2", "x.csv")).toThrow(CodecError);
    expect(() => parseCalibrationCsv("time,rssi\n1,2", "x.csv")).toThrow(
      /x\.csv: expected the header/,
    );
    expect(() => parseCalibrationCsv(`${SAMPLE}Acme,X1,minus,-3,no\n`)).toThrow(
      /line 10: RSSI correction and TX power must be numbers/,
    );
    expect(() => parseCalibrationCsv("oem,model,a,b,c\nAcme,X1\n")).toThrow(
      /line 2: expected 5 fields/,
    );
    expect(() => parseCalibrationCsv("oem,model,a,b,c\n")).toThrow(/no devices/);
  });

  it("says which file could not be read", () => {
    expect(() => loadCalibrationTable("/nonexistent/table.csv")).toThrow(ConfigError);
    expect(() => loadCalibrationTable("/nonexistent/table.csv")).toThrow(
      /cannot read the calibration table \/nonexistent\/table\.csv: no such file/,
    );
  });
});

describe("attenuationDb (docs/protocols.md, Attenuation)", () => {
  it("is TX power - (RSSI + correction)", () => {
    expect(attenuationDb(-24, -80, -3)).toBe(59);
    expect(attenuationDb(8, -60, 0)).toBe(68);
    expect(attenuationDb(-31, -70, 5)).toBe(34);
  });

  it("clamps RSSI to [-127, 126] before computing", () => {
    expect(attenuationDb(0, -200, 0)).toBe(127);
    expect(attenuationDb(20, -127, 0)).toBe(147);
    expect(attenuationDb(127, 200, 0)).toBe(1);
  });

  it("clamps the attenuation at 0", () => {
    expect(attenuationDb(-24, -10, 0)).toBe(0);
    expect(attenuationDb(-24, -24, 0)).toBe(0);
    expect(attenuationDb(-24, -30, 7)).toBe(0);
  });
});

describeWith(REAL_TABLE)("the 2020-06-13 table", () => {
  const table = REAL_TABLE.met ? loadCalibrationTable(TABLE_PATH) : parseCalibrationCsv(SAMPLE);

  it("has 9,896 devices, 313 of them measured", () => {
    expect(table.rows.length).toBe(9896);
    expect(table.rows.filter((r) => r.measured).length).toBe(313);
  });

  it("looks up the rig's phones and common spellings", () => {
    expect(table.lookup("Google Pixel 2")).toMatchObject({
      rssiCorrectionDb: -6,
      txPowerDbm: -31,
      measured: false,
    });
    expect(table.lookup("Pixel 3")).toMatchObject({
      rssiCorrectionDb: -4,
      txPowerDbm: -34,
      measured: true,
    });
    expect(table.lookup("samsung sm-n950f")).toMatchObject({
      rssiCorrectionDb: -5,
      txPowerDbm: -18,
      measured: true,
    });
    expect(table.lookup("SM-A205F")).toMatchObject({ rssiCorrectionDb: -3, txPowerDbm: -24 });
    expect(table.lookup("Samsung Galaxy Note 8")).toMatchObject({
      rssiCorrectionDb: -3,
      txPowerDbm: -24,
      match: "oem-default",
    });
  });

  it("has the medians the default claims", () => {
    const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1];
    expect(median(table.rows.map((r) => r.rssiCorrectionDb))).toBe(
      DEFAULT_DEVICE_CALIBRATION.rssiCorrectionDb,
    );
    expect(median(table.rows.map((r) => r.txPowerDbm))).toBe(DEFAULT_DEVICE_CALIBRATION.txPowerDbm);
  });
});
