import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseDurationS } from "../../src/cli/commands/simulate.js";
import { runCli } from "./run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "proxkit-simulate-"));
const small = ["-s", "classroom", "-n", "8", "-d", "10m", "--seed", "3"];
/** What a run folder holds besides its report (Parquet tables by default). */
const RUN_FILES_WRITTEN = [
  "sightings.parquet",
  "detections.parquet",
  "windows.parquet",
  "truth_pairs.parquet",
  "truth_intervals.parquet",
  "keys.jsonl",
  "truth.jsonl",
  "summary.json",
];

describe("proxkit simulate", () => {
  it("writes the run folder and prints every detector's evaluation as JSON", () => {
    const out = join(dir, "run");
    const r = runCli(["simulate", ...small, "--out", out, "-f", "json"]);
    expect(r.stderr).toMatch(/classroom: 8 agents/);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.detectors.map((d: { name: string }) => d.name)).toEqual([
      "proxkit",
      "cwa-v1",
      "cwa-v2",
      "swiss-2020-05",
      "swiss-2020-07",
      "swiss-2020-09",
      "immuni",
      "nhs-v1",
      "nhs-v2",
    ]);
    for (const d of result.detectors)
      for (const field of [
        "precision",
        "recall",
        "f1",
        "durationErrorMin",
        "detection",
        "continuity",
      ])
        expect(typeof d[field]).toBe("number");
    for (const f of [...RUN_FILES_WRITTEN, "report.html"])
      expect(existsSync(join(out, f)), f).toBe(true);
    // Nothing left half-written beside it.
    expect(existsSync(`${out}.partial`)).toBe(false);
    // The same run as JSON lines, on request.
    const lines = join(dir, "lines");
    expect(
      runCli(["simulate", ...small, "--out", lines, "--output-format", "jsonl", "-f", "json"]).code,
    ).toBe(0);
    const sighting = JSON.parse(
      readFileSync(join(lines, "sightings.jsonl"), "utf8").split("\n")[0],
    );
    expect(sighting).toMatchObject({ protocol: "gaen" });
    expect(typeof sighting.receiver).toBe("number");
    expect(readFileSync(join(out, "report.html"), "utf8")).toMatch(/<svg/);
    // No progress bar when stderr is not a terminal.
    expect(r.stderr).not.toMatch(/\[[░█]+\]/);
  });

  it("evaluate --run redoes matching and detection from the files: the same figures", () => {
    const out = join(dir, "run");
    const simulated = JSON.parse(runCli(["simulate", ...small, "--out", out, "-f", "json"]).stdout);
    const r = runCli(["evaluate", "--run", out, "-f", "json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).detectors).toEqual(simulated.detectors);
    const one = JSON.parse(
      runCli(["evaluate", "--run", out, "--preset", "cwa-v2", "-f", "json"]).stdout,
    );
    expect(one.detectors.map((d: { name: string }) => d.name)).toEqual(["cwa-v2"]);
    const table = runCli(["evaluate", "--run", out, "-f", "table"]);
    expect(table.stdout).toMatch(/detector\s+precision\s+recall\s+f1/);
  });

  it("the same seed writes the same files", () => {
    const a = join(dir, "a");
    const b = join(dir, "b");
    runCli(["simulate", ...small, "--out", a, "-f", "json"]);
    runCli(["simulate", ...small, "--out", b, "-f", "json"]);
    for (const f of RUN_FILES_WRITTEN)
      expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f).toBe(true);
  });

  it("matching, evaluation and files in a thread of their own write the same bytes as in one", () => {
    const run = (name: string, thread: string) => {
      const out = join(dir, name);
      const r = runCli([
        "simulate",
        ...small,
        "-p",
        "dp3t",
        "--no-ceiling",
        thread,
        "--out",
        out,
        "-f",
        "json",
      ]);
      expect(r.code, r.stderr).toBe(0);
      return { out, stdout: JSON.parse(r.stdout) };
    };
    const one = run("one-thread", "--no-thread");
    const two = run("two-threads", "--thread");
    expect(two.stdout.detectors).toEqual(one.stdout.detectors);
    for (const f of RUN_FILES_WRITTEN)
      expect(readFileSync(join(two.out, f)).equals(readFileSync(join(one.out, f))), f).toBe(true);
  });

  it("other protocols and index shares", () => {
    const out = join(dir, "bz");
    const r = runCli([
      "simulate",
      ...small,
      "-p",
      "bluezone",
      "--index-share",
      "0.5",
      "--out",
      out,
      "-f",
      "json",
    ]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    expect(summary.run.protocol).toBe("bluezone");
    expect(summary.indexCases).toBe(4);
    expect(readFileSync(join(out, "keys.jsonl"), "utf8")).toMatch(/"protocol":"bluezone"/);
  });

  it("bad input: one line, exit 2", () => {
    for (const [args, message] of [
      [["simulate", "-s", "nowhere"], /neither a built-in scenario .* nor a file/],
      [["simulate", "-s", "classroom", "-d", "ten"], /--duration must be a duration/],
      [["simulate", ...small, "-d", "5m"], /--duration was given more than once/],
      [["simulate", ...small, "--index-share", "2"], /--index-share must be a number in 0..1/],
      [["simulate", ...small, "--preset", "cwa-v9"], /unknown preset "cwa-v9"/],
      [["simulate"], /--scenario is needed/],
      [["simulate", ...small, "--channel", "v9"], /channel "v9": no such profile or file/],
      [["simulate", ...small, "--workers", "2"], /--workers 2: only a world of venues/],
      [["evaluate", "--run", join(dir, "missing")], /is not a folder/],
      [["evaluate", "--run", dir], /truth.jsonl is missing/],
      [["evaluate"], /give --run DIR/],
    ] as const) {
      const r = runCli([...args]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  it("--channel: v2 is the default's bytes and recorded; herald-only differs", () => {
    const run = (name: string, extra: string[]) => {
      const out = join(dir, name);
      const r = runCli(["simulate", ...small, "--out", out, "-f", "json", ...extra]);
      expect(r.code, r.stderr).toBe(0);
      return {
        sightings: readFileSync(join(out, "sightings.parquet")).toString("hex"),
        summary: JSON.parse(readFileSync(join(out, "summary.json"), "utf8")),
        // Without the one line that says when it was written.
        report: readFileSync(join(out, "report.html"), "utf8").replace(/Generated [^<]*/, ""),
      };
    };
    const base = run("ch-default", []);
    const herald = run("ch-herald", ["--channel", "herald-only"]);
    expect(herald.sightings).not.toBe(base.sightings);
    expect(herald.summary.run.channel).toBeUndefined();
    expect(base.summary.run.channel).toBe("v2");
    const v2a = run("ch-v2a", ["--channel", "v2"]);
    const v2b = run("ch-v2b", ["--channel", "v2"]);
    expect(v2a.sightings).toBe(v2b.sightings);
    expect(v2a.sightings).toBe(base.sightings);
    expect(v2a.summary).toEqual(base.summary);
    // The report names the channel and its measured campaigns, the same bytes for the same seed.
    expect(herald.report).toContain("<h3>Radio channel: herald-only</h3>");
    expect(herald.report).toContain("Its sources name the measured campaigns herald-edison:");
    expect(v2a.report).toContain("<h3>Radio channel: v2</h3>");
    expect(v2a.report).toContain(
      "Its sources name the measured campaigns herald-edison, dp3t-exp05, body-position, mit-matrix, pi-multichannel",
    );
    expect(v2a.report).toBe(v2b.report);
    expect(v2a.report).toBe(base.report);
  });

  it("--help teaches: options and examples", () => {
    const r = runCli(["simulate", "--help"]);
    for (const word of [
      "--scenario",
      "--agents",
      "--duration",
      "--seed",
      "--protocol",
      "--out",
      "--index-share",
      "--default-job",
      "--channel",
      "docs/channel.md",
      "Examples",
    ])
      expect(r.stdout).toContain(word);
  });
});

describe("parseDurationS", () => {
  it("reads 1h, 30m, 90s, 1h30m and plain seconds", () => {
    expect(parseDurationS("1h")).toBe(3600);
    expect(parseDurationS("30m")).toBe(1800);
    expect(parseDurationS("90s")).toBe(90);
    expect(parseDurationS("1h30m")).toBe(5400);
    expect(parseDurationS("600")).toBe(600);
    expect(() => parseDurationS("")).toThrow(/duration/);
    expect(() => parseDurationS("1d")).toThrow(/duration/);
  });
});
