import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startCli, sweepCli, tableRows } from "../sim/sweep/sweep-cli.js";

const dir = mkdtempSync(join(tmpdir(), "proxkit-sweep-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Six short runs: two channels by three seeds. */
const grid = join(dir, "grid.json");
writeFileSync(
  grid,
  JSON.stringify({
    scenario: "classroom",
    agents: 20,
    durationS: 300,
    closeMinutes: 2,
    channel: ["v2", "herald-only"],
    seeds: "1-3",
    presets: [["proxkit", "cwa-v2", "nhs-v2"]],
  }),
);

let reference: Record<string, unknown>[];

describe("proxkit sweep (one machine)", () => {
  it("runs the grid on one worker and on three: the same table, row for row, and a report", async () => {
    const one = sweepCli(["sweep", "--grid", grid, "--out", join(dir, "one"), "--workers", "1"]);
    expect(one.stderr).toMatch(/sweep: 6 runs \(0 already finished\), 6 run on 1 worker/);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain(`results: ${join(dir, "one", "results.parquet")}`);
    const three = sweepCli(["sweep", "--grid", grid, "--out", join(dir, "three"), "-w", "3"]);
    expect(three.code).toBe(0);
    expect(three.stderr).toMatch(/6 run on 3 workers/);
    reference = await tableRows(join(dir, "one", "results.parquet"));
    expect(reference).toHaveLength(6 * 6);
    expect(await tableRows(join(dir, "three", "results.parquet"))).toEqual(reference);
    expect(reference.map((r) => r.run_index)).toEqual(
      [...Array(36).keys()].map((i) => Math.floor(i / 6)),
    );
    expect(reference[0]).toMatchObject({
      scenario: "classroom",
      agents: 20,
      seed: 1,
      channel: "v2",
      rule: "proxkit",
      kind: "detector",
    });
    expect(reference[5]).toMatchObject({
      rule: "ceiling-scans",
      kind: "reference",
      duration_error_min: null,
    });
    const html = readFileSync(join(dir, "one", "report.html"), "utf8");
    expect(html).toMatch(/F1 by channel/);
    expect(html).toMatch(/<svg/);
    expect(readdirSync(join(dir, "one", "runs"))).toHaveLength(6);
  }, 120_000);

  it("resumes after being killed mid-sweep, redoing only the unfinished runs", async () => {
    const out = join(dir, "killed");
    const sweep = startCli(["sweep", "--grid", grid, "--out", out, "--workers", "1"]);
    const finished = () => {
      try {
        return readdirSync(join(out, "runs")).filter((n) => !n.includes(".partial")).length;
      } catch {
        return 0;
      }
    };
    while (finished() < 2 && sweep.child.exitCode === null)
      await new Promise((r) => setTimeout(r, 50));
    sweep.killGroup("SIGKILL");
    await sweep.exited;
    const done = finished();
    expect(done).toBeGreaterThanOrEqual(2);
    expect(done).toBeLessThan(6);
    const again = sweepCli(["sweep", "--grid", grid, "--out", out, "--workers", "2"]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`6 runs (${done} already finished), ${6 - done} run`);
    expect(await tableRows(join(out, "results.parquet"))).toEqual(reference);
    expect(readdirSync(join(out, "runs")).filter((n) => n.includes(".partial"))).toEqual([]);
  }, 120_000);

  it("runs Slurm-style shards into one folder, then --collect makes the same table", async () => {
    const out = join(dir, "shards");
    const early = sweepCli(["sweep", "--grid", grid, "--out", out, "--collect"]);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/6 of 6 runs are not finished yet/);
    const shards = [0, 1, 2].map((i) =>
      startCli(["sweep", "--grid", grid, "--out", out, "--shard", `${i}/3`, "--workers", "1"]),
    );
    const codes = await Promise.all(shards.map((s) => s.exited));
    expect(codes).toEqual([0, 0, 0]);
    expect(shards[1].stderr()).toMatch(/shard 1\/3: 2 runs/);
    const collect = sweepCli(["sweep", "--grid", grid, "--out", out, "--collect"]);
    expect(collect.code).toBe(0);
    expect(await tableRows(join(out, "results.parquet"))).toEqual(reference);
  }, 120_000);

  it("fails in one line per mistake, with exit code 2, on bad grids and options", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(
      bad,
      JSON.stringify({ scenario: "atlantis", agents: [0], seeds: "1-3", speed: 2 }),
    );
    const r = sweepCli(["sweep", "--grid", bad, "--out", join(dir, "bad")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}: 3 mistakes:`);
    expect(r.stderr).toContain('unknown parameter "speed"');
    expect(r.stderr).toContain('"agents"[0] must be an integer 1..1000000, got 0');
    writeFileSync(bad, "{ not json");
    expect(sweepCli(["sweep", "--grid", bad]).stderr).toMatch(/not JSON/);
    const cases: [string[], RegExp][] = [
      [["sweep"], /--grid is needed/],
      [["sweep", "--grid", join(dir, "none.json")], /cannot read grid file .*no such file/],
      [["sweep", "--grid", grid, "--shard", "3/3"], /--shard 3\/3: the index must be 0..2/],
      [["sweep", "--grid", grid, "--shard", "x"], /--shard must be I\/N/],
      [["sweep", "--grid", grid, "--workers", "0"], /--workers/],
      [["sweep", "--grid", grid, "--queue", "http://localhost"], /must start with redis:\/\//],
      [["sweep", "--grid", grid, "--queue", "not a url"], /must be a Redis URL/],
      [["sweep", "--grid", grid, "--queue", "redis://h:1", "--workers", "2"], /--concurrency/],
      [["sweep", "--grid", grid, "--queue", "redis://h:1", "--shard", "0/2"], /do not go together/],
      [["worker"], /--queue is needed/],
      [["worker", "--queue", "redis:///"], /names no host/],
    ];
    for (const [args, message] of cases) {
      const c = sweepCli(args, { cwd: dir });
      expect(c.stderr, args.join(" ")).toMatch(message);
      expect(c.code, args.join(" ")).toBe(2);
    }
  }, 60_000);

  it("says so at once, with exit code 2, when Redis is unreachable", async () => {
    // A port nobody listens on: taken, then freed.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const started = performance.now();
    const r = sweepCli([
      "sweep",
      "--grid",
      grid,
      "--out",
      join(dir, "q"),
      "--queue",
      `redis://127.0.0.1:${port}`,
    ]);
    expect(r.stderr).toMatch(
      new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
    );
    expect(r.code).toBe(2);
    const w = sweepCli(["worker", "--queue", `redis://127.0.0.1:${port}`]);
    expect(w.stderr).toMatch(/cannot reach Redis/);
    expect(w.code).toBe(2);
    expect(performance.now() - started).toBeLessThan(20_000);
  }, 60_000);

  it("teaches in --help", () => {
    const r = sweepCli(["sweep", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--shard \$SLURM_ARRAY_TASK_ID\/\$SLURM_ARRAY_TASK_COUNT/);
    expect(r.stdout).toMatch(/proxkit worker --queue/);
    expect(sweepCli(["worker", "--help"]).stdout).toMatch(/--concurrency/);
  });
});
