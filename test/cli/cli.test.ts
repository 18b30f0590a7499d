import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DP3T_SDK_VECTOR } from "../vectors/dp3t-sdk.js";
import { GAEN_CRYPTO_V1_2 as V } from "../vectors/gaen-crypto-v1.2.js";
import { runCli } from "./run-cli.js";

const jsonLines = (text: string) =>
  text
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));

describe("proxkit ids", () => {
  it("gaen: the official vector as JSON lines", () => {
    const { code, stdout } = runCli([
      "ids",
      "--protocol",
      "gaen",
      "--key",
      V.tek,
      "--start",
      String(V.intervalNumber),
      "--count",
      "2",
      "--tx-power",
      "8",
    ]);
    expect(code).toBe(0);
    expect(jsonLines(stdout)).toEqual(
      V.intervals.map((i) => ({ interval: i.intervalNumber, rpi: i.rpi, aem: i.aem })),
    );
  });

  it("gaen: --start as an ISO date-time (UTC without a zone), 144 by default", () => {
    const { code, stdout } = runCli([
      "ids",
      "-p",
      "gaen",
      "-k",
      V.tek.toUpperCase(),
      "--start",
      "2020-04-02T00:05",
      "--tx-power",
      "8",
    ]);
    expect(code).toBe(0);
    const rows = jsonLines(stdout);
    expect(rows.length).toBe(144);
    expect(rows[0]).toEqual({
      interval: V.intervalNumber,
      rpi: V.intervals[0].rpi,
      aem: V.intervals[0].aem,
    });
  });

  it("dp3t: the SDK vector, key in base64 or hex", () => {
    for (const key of [
      DP3T_SDK_VECTOR.dayKeyBase64,
      Buffer.from(DP3T_SDK_VECTOR.dayKeyBase64, "base64").toString("hex"),
    ]) {
      const { code, stdout } = runCli(["ids", "--protocol", "dp3t", "--key", key, "--count", "1"]);
      expect(code).toBe(0);
      expect(jsonLines(stdout)).toEqual([{ epoch: 0, ephid: DP3T_SDK_VECTOR.ephId0 }]);
    }
  });

  it("bluezone: 96 slots, --day chains the key", () => {
    const key = "00".repeat(32);
    const day0 = jsonLines(runCli(["ids", "-p", "bluezone", "-k", key]).stdout);
    expect(day0.length).toBe(96);
    expect(day0[0]).toEqual({ slot: 0, id: expect.stringMatching(/^[0-9a-f]{24}$/) });
    const day1 = jsonLines(
      runCli(["ids", "-p", "bluezone", "-k", key, "--day", "1", "-n", "1"]).stdout,
    );
    expect(day1[0].id).not.toBe(day0[0].id);
  });

  it("csv and table formats", () => {
    const csv = runCli([
      "ids",
      "-p",
      "gaen",
      "-k",
      V.tek,
      "--start",
      String(V.intervalNumber),
      "-n",
      "1",
      "-f",
      "csv",
      "--tx-power",
      "8",
    ]);
    expect(csv.stdout).toBe(
      `interval,rpi,aem\n${V.intervalNumber},${V.intervals[0].rpi},${V.intervals[0].aem}\n`,
    );
    const table = runCli([
      "ids",
      "-p",
      "dp3t",
      "-k",
      DP3T_SDK_VECTOR.dayKeyBase64,
      "-n",
      "1",
      "-f",
      "table",
    ]);
    expect(table.stdout.split("\n")[0]).toMatch(/^epoch\s+ephid$/);
  });
});

describe("proxkit adv", () => {
  it("decodes the official GAEN advertisement", () => {
    const { code, stdout } = runCli(["adv", "decode", V.advertisement]);
    expect(code).toBe(0);
    const json = JSON.parse(stdout);
    expect(json).toMatchObject({
      protocol: "gaen",
      rpi: V.intervals[0].rpi,
      aem: V.intervals[0].aem,
    });
    expect(Array.isArray(json.structures)).toBe(true);
  });

  it("encodes the official GAEN advertisement, and round-trips dp3t and bluezone", () => {
    expect(
      runCli([
        "adv",
        "encode",
        "-p",
        "gaen",
        "--id",
        V.intervals[0].rpi,
        "--aem",
        V.intervals[0].aem,
      ]).stdout.trim(),
    ).toBe(V.advertisement);
    const ephid = DP3T_SDK_VECTOR.ephId0;
    const dp3t = runCli(["adv", "encode", "-p", "dp3t", "--id", ephid]).stdout.trim();
    expect(JSON.parse(runCli(["adv", "decode", dp3t]).stdout)).toMatchObject({
      protocol: "dp3t",
      ephid,
    });
    const id = "0102030405060708090a0b0c";
    const bz = runCli(["adv", "encode", "-p", "bluezone", "--id", id]).stdout.trim();
    expect(JSON.parse(runCli(["adv", "decode", bz]).stdout)).toMatchObject({
      protocol: "bluezone",
      id,
    });
  });

  it("says unknown for other advertisements", () => {
    expect(
      JSON.parse(runCli(["adv", "decode", "0201060aff4c001005031c2d3e4f"]).stdout).protocol,
    ).toBe("unknown");
  });
});

describe("proxkit keys new", () => {
  it("creates a key store with mode 0600 and refuses to overwrite it", () => {
    const path = join(mkdtempSync(join(tmpdir(), "proxkit-cli-")), "k.json");
    expect(runCli(["keys", "new", "-p", "bluezone", "--out", path]).code).toBe(0);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = runCli(["keys", "new", "-p", "bluezone", "--out", path]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  });
});

describe("bad input: one clear line, exit 2, no stack", () => {
  const cases: [string, string[], RegExp][] = [
    ["wrong key length", ["ids", "-p", "gaen", "-k", "abcd"], /must be 16 bytes/],
    ["bad hex", ["ids", "-p", "gaen", "-k", "zz".repeat(16)], /--key \(a GAEN TEK\) is not hex/],
    ["unknown protocol", ["ids", "-p", "bluetooth", "-k", "00"], /protocol/i],
    ["negative count", ["ids", "-p", "gaen", "-k", V.tek, "--count", "-5"], /--count/],
    [
      "count not a number",
      ["ids", "-p", "gaen", "-k", V.tek, "--count", "many"],
      /--count must be a whole number/,
    ],
    ["bad start", ["ids", "-p", "gaen", "-k", V.tek, "--start", "2020-13-45"], /date-time/],
    ["garbage advertisement", ["adv", "decode", "05ff0102"], /offset/],
    ["non-hex advertisement", ["adv", "decode", "hello"], /not hex/],
    ["odd hex", ["adv", "decode", "02011"], /odd number/],
    ["wrong RPI length", ["adv", "encode", "-p", "gaen", "--id", "0011"], /16 bytes/],
    ["unknown command", ["frobnicate"], /Unknown/i],
    ["unknown option", ["ids", "-p", "gaen", "-k", V.tek, "--colour"], /Unknown argument/i],
    ["missing key", ["ids", "-p", "gaen"], /key/],
    ["dp3t key wrong length", ["ids", "-p", "dp3t", "-k", "AAAA"], /32 bytes/],
    [
      "option of another protocol",
      ["ids", "-p", "bluezone", "-k", "00".repeat(32), "--start", "5"],
      /--start is for gaen/,
    ],
    ["unknown bench workload", ["bench", "--only", "nope"], /unknown workload/],
  ];
  it.each(cases)("%s", (_name, args, message) => {
    const { code, stdout, stderr } = runCli(args);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(message);
    expect(stderr.trim().split("\n").length).toBe(1);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
