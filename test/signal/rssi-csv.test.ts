import { describe, expect, it } from "vitest";
import { CodecError } from "../../src/core/errors.js";
import { parseTimeMs, RssiCsvReader } from "../../src/signal/rssi-csv.js";

describe("parseTimeMs", () => {
  it("reads zone-less date-times as UTC", () => {
    expect(parseTimeMs("2021-01-04 14:22:03")).toBe(Date.UTC(2021, 0, 4, 14, 22, 3));
    expect(parseTimeMs("2021-01-04T14:22:03")).toBe(Date.UTC(2021, 0, 4, 14, 22, 3));
    expect(parseTimeMs("2021-01-04 14:22:03.25")).toBe(Date.UTC(2021, 0, 4, 14, 22, 3, 250));
    expect(parseTimeMs("2021-01-04 14:22")).toBe(Date.UTC(2021, 0, 4, 14, 22));
  });

  it("honours a zone", () => {
    expect(parseTimeMs("2021-01-04T14:22:03Z")).toBe(Date.UTC(2021, 0, 4, 14, 22, 3));
    expect(parseTimeMs("2021-01-04T15:22:03+01:00")).toBe(Date.UTC(2021, 0, 4, 14, 22, 3));
    expect(parseTimeMs("2021-01-04 14:22:03.5Z")).toBe(Date.UTC(2021, 0, 4, 14, 22, 3, 500));
  });

  it("reads Unix seconds", () => {
    expect(parseTimeMs("1609770123")).toBe(1609770123000);
    expect(parseTimeMs(" 1609770123.5 ")).toBe(1609770123500);
  });

  it("returns undefined for anything else", () => {
    for (const text of [
      "",
      "yesterday",
      "2021-13-04 14:22:03",
      "2021-01-04 25:00:00",
      "04/01/2021",
    ])
      expect(parseTimeMs(text), text).toBeUndefined();
  });
});

describe("RssiCsvReader", () => {
  it("finds the columns by name and ignores the others", () => {
    const reader = new RssiCsvReader("walk.csv");
    reader.header("extra,RSSI,Time");
    expect(reader.row("x,-70,2021-01-04 14:22:03", 2)).toEqual({
      atMs: Date.UTC(2021, 0, 4, 14, 22, 3),
      rssiDbm: -70,
    });
    expect(reader.row("  ", 3)).toBeUndefined();
  });

  it("reads the distance (cm) as ground truth when asked", () => {
    const reader = new RssiCsvReader("rig.csv", { withDistance: true });
    reader.header("time,rssi,distance");
    expect(reader.row("2021-01-04 14:22:03,-75.0,25", 2)).toEqual({
      atMs: Date.UTC(2021, 0, 4, 14, 22, 3),
      rssiDbm: -75,
      distanceM: 0.25,
    });
    expect(() => reader.row("2021-01-04 14:22:04,-75.0,far", 3)).toThrow(
      /rig\.csv line 3: distance/,
    );
  });

  it("says which line is wrong and why", () => {
    const reader = new RssiCsvReader("walk.csv");
    expect(() => reader.header("when,level")).toThrow(CodecError);
    expect(() => reader.header("when,level")).toThrow(
      /walk\.csv line 1: the header must name the columns time and rssi/,
    );
    reader.header("time,rssi");
    expect(reader.row("1609770123,-70", 2)).toEqual({ atMs: 1609770123000, rssiDbm: -70 });
    expect(() => reader.row("1609770124,loud", 3)).toThrow(
      /walk\.csv line 3: RSSI is not a number: "loud"/,
    );
    expect(() => reader.row("1609770124,", 4)).toThrow(/line 4: RSSI is not a number/);
    expect(() => reader.row("soon,-70", 5)).toThrow(
      /line 5: time is neither a date-time nor Unix seconds/,
    );
    expect(() => reader.row("1609770124", 6)).toThrow(/line 6: expected at least 2 columns/);
    expect(() => reader.row("1609770100,-70", 7)).toThrow(/line 7: time goes backwards/);
  });
});
