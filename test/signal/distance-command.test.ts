/**
 * The `proxkit distance` command, end to end through `runDistance` (what its yargs handler
 * calls): a CSV on disk in, estimate rows out, one clear error for each kind of bad input.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { distanceCommand, runDistance } from "../../src/cli/commands/distance.js";
import { CodecError, ConfigError } from "../../src/core/errors.js";

const dir = mkdtempSync(join(tmpdir(), "proxkit-distance-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Two minutes at -60 dBm then eight at -90 dBm, one sample a second, with an extra column. */
const WALK = file(
  "walk.csv",
  [
    "time,rssi,note",
    ...Array.from({ length: 600 }, (_, s) => {
      const at = new Date(Date.UTC(2021, 0, 4, 14, 22, 3) + s * 1000)
        .toISOString()
        .replace("T", " ")
        .slice(0, 19);
      return `${at},${s < 120 ? -60 : -90},x`;
    }),
  ].join("\n"),
);

const CALIBRATION = file(
  "calibration.csv",
  "oem,model,rssi correction,tx,has direct measurement\nGoogle,Pixel 3,-4,-34,yes\nSamsung,SM-G960F,-2,-26,yes\n",
);

async function run(options: Partial<Parameters<typeof runDistance>[0]> & { input: string }) {
  let out = "";
  const notes: string[] = [];
  await runDistance(
    { format: "jsonl", findCalibration: () => undefined, ...options },
    (text) => {
      out += text;
    },
    (note) => notes.push(note),
  );
  return { out, notes };
}

describe("proxkit distance", () => {
  it("writes a causal estimate every 30 s as JSON lines", async () => {
    const { out } = await run({ input: WALK });
    const rows = out
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const start = Date.UTC(2021, 0, 4, 14, 22, 3) / 1000;
    expect(rows.length).toBe(21);
    expect(rows[0]).toEqual({ t: Math.ceil(start / 30) * 30, distance_m: expect.any(Number) });
    for (let i = 1; i < rows.length; i++) expect(rows[i].t - rows[i - 1].t).toBe(30);
    // Near while the strong signal (start to start + 120 s) is a tenth or more of the last
    // 5 minutes (until about start + 390 s), far once it has left the window.
    for (const row of rows) {
      if (row.t <= start + 360) expect(row.distance_m, String(row.t)).toBeLessThan(2);
      else if (row.t >= start + 420) expect(row.distance_m, String(row.t)).toBeGreaterThan(2);
    }
  });

  it("follows the drop with the 60 s median of Herald's model", async () => {
    const { out } = await run({ input: WALK, estimator: "herald" });
    const rows = out
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(rows[0].distance_m).toBe(0); // -60 dBm: Herald's line is below 0 m there
    expect(rows.at(-1).distance_m).toBeCloseTo(-17.10208 + 0.266793 * 90, 2);
  });

  it("writes CSV and tables", async () => {
    const csv = (await run({ input: WALK, format: "csv" })).out.split("\n");
    expect(csv[0]).toBe("t,distance_m");
    expect(csv[1]).toMatch(/^\d+,\d+(\.\d+)?$/);
    const table = (await run({ input: WALK, format: "table" })).out.split("\n");
    expect(table[0]).toMatch(/^t\s+distance_m$/);
    expect(table[1]).toMatch(/^-+\s+-+$/);
  });

  it("accepts Unix seconds", async () => {
    const path = file("unix.csv", "rssi,time\n-70,1609770123\n-71,1609770153.5\n-72,1609770190\n");
    const { out } = await run({ input: path, estimator: "log-distance" });
    expect(
      out
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).t),
    ).toEqual([1609770150, 1609770180, 1609770210]);
  });

  it("looks the phones up in the calibration table and says when it falls back", async () => {
    const { out, notes } = await run({
      input: WALK,
      estimator: "calibrated",
      calibration: CALIBRATION,
      rxModel: "pixel 3",
      txModel: "Samsung Galaxy S9",
    });
    expect(out).toContain("distance_m");
    expect(notes).toEqual([
      '--tx-model "Samsung Galaxy S9" is not in the calibration table; using its maker\'s usual values (correction -2 dB, TX -26 dBm)',
    ]);
  });

  it("says the calibration table is needed when there is none", async () => {
    await expect(run({ input: WALK, rxModel: "Pixel 3" })).rejects.toThrow(ConfigError);
    await expect(run({ input: WALK, rxModel: "Pixel 3" })).rejects.toThrow(
      /pass it with --calibration FILE/,
    );
    await expect(
      run({ input: WALK, rxModel: "Pixel 3", calibration: join(dir, "nope.csv") }),
    ).rejects.toThrow(/cannot read the calibration table .*nope\.csv: no such file/);
  });

  it("gives one clear error for each kind of bad input", async () => {
    await expect(run({ input: join(dir, "missing.csv") })).rejects.toThrow(
      /cannot read --input .*missing\.csv: no such file/,
    );
    await expect(run({ input: dir })).rejects.toThrow(/is not a file/);
    await expect(run({ input: file("empty.csv", "") })).rejects.toThrow(/is empty/);
    const header = file("header.csv", "when,level\n1,2\n");
    await expect(run({ input: header })).rejects.toThrow(CodecError);
    await expect(run({ input: header })).rejects.toThrow(
      /header\.csv line 1: the header must name the columns time and rssi/,
    );
    const rssi = file("rssi.csv", "time,rssi\n1609770123,-70\n1609770124,-71\n1609770125,strong\n");
    await expect(run({ input: rssi })).rejects.toThrow(
      /rssi\.csv line 4: RSSI is not a number: "strong"/,
    );
    await expect(run({ input: WALK, estimator: "magic" })).rejects.toThrow(
      /unknown estimator "magic": use one of proxkit, herald, log-distance, calibrated, nhs-ukf/,
    );
  });

  it("is a yargs command module named distance", () => {
    expect(distanceCommand.command).toBe("distance");
    expect(typeof distanceCommand.handler).toBe("function");
  });
});
