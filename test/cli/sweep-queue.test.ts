/**
 * The sweep across processes on a real Redis (redis-server on 127.0.0.1, a port of its own, no
 * persistence) with BullMQ: three workers, one SIGKILLed mid-run; its run goes to another worker
 * and the table equals the one-machine sweep's, row for row.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliProcess, startCli, sweepCli, tableRows } from "../sim/sweep/sweep-cli.js";

const dir = mkdtempSync(join(tmpdir(), "proxkit-sweep-queue-"));
let redis: ChildProcess | undefined;
let url = "";
const workers: CliProcess[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  const port = await freePort();
  redis = spawn(
    "redis-server",
    ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start:\n${out}`)),
      10_000,
    );
    redis!.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
    redis!.on("error", reject);
  });
  url = `redis://127.0.0.1:${port}`;
}, 180_000);

afterAll(async () => {
  for (const w of workers) w.killGroup("SIGKILL");
  await Promise.all(workers.map((w) => w.exited));
  if (redis && redis.exitCode === null) {
    redis.kill("SIGKILL");
    await new Promise((resolve) => redis!.once("exit", resolve));
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("proxkit sweep --queue and proxkit worker (BullMQ on Redis)", () => {
  it("retries a SIGKILLed worker's run elsewhere; the table equals the local sweep's row for row", async () => {
    const grid = join(dir, "grid.json");
    writeFileSync(
      grid,
      JSON.stringify({
        scenario: "classroom",
        agents: 20,
        durationS: 300,
        closeMinutes: 2,
        channel: ["v2", "herald-only"],
        seeds: "1-4",
        presets: [["proxkit", "cwa-v2"]],
      }),
    );
    const local = sweepCli([
      "sweep",
      "--grid",
      grid,
      "--out",
      join(dir, "local"),
      "--workers",
      "2",
    ]);
    expect(local.code).toBe(0);
    const reference = await tableRows(join(dir, "local", "results.parquet"));
    expect(reference).toHaveLength(8 * 5);

    for (let i = 0; i < 3; i++)
      workers.push(
        startCli([
          "worker",
          "--queue",
          url,
          "--lock-duration",
          "3000",
          "--stalled-interval",
          "1000",
        ]),
      );
    await Promise.all(workers.map((w) => w.waitFor(/waiting for runs/)));
    const out = join(dir, "queued");
    const sweep = startCli(["sweep", "--grid", grid, "--out", out, "--queue", url]);
    // The first worker to start a run is killed with its run process, as a machine dies.
    const [victim, killedRun] = await Promise.race(
      workers.map((w, i) =>
        w.waitFor(/run (\S+) started/).then(
          (m) => [i, m[1]] as const,
          () => [-1, ""] as const,
        ),
      ),
    );
    expect(victim).toBeGreaterThanOrEqual(0);
    workers[victim].killGroup("SIGKILL");
    const killed = workers[victim];
    const live = workers.filter((_, i) => i !== victim);
    expect(await killed.exited).toBe(null);
    expect(await sweep.exited).toBe(0);
    expect(sweep.stdout()).toContain(`results: ${join(out, "results.parquet")}`);
    expect(killed.stderr()).not.toContain(`run ${killedRun} done`);
    const others = live.map((w) => w.stderr()).join("");
    // Put back on the queue by a live worker's stalled-job check, and run again there.
    expect(others).toMatch(new RegExp(`run ${killedRun} started \\(.*stalls 1\\)`));
    expect(others).toContain(`run ${killedRun} done`);
    expect(await tableRows(join(out, "results.parquet"))).toEqual(reference);

    // Submitting the same grid again finds every run done: the same table, nothing rerun.
    const again = sweepCli(["sweep", "--grid", grid, "--out", join(dir, "again"), "--queue", url]);
    expect(again.code).toBe(0);
    expect(await tableRows(join(dir, "again", "results.parquet"))).toEqual(reference);
    expect((others.match(/ done in /g) ?? []).length).toBe(
      8 - (killed.stderr().match(/ done in /g) ?? []).length,
    );

    // SIGTERM: idle workers stop cleanly.
    for (const w of live) w.child.kill("SIGTERM");
    expect(await Promise.all(live.map((w) => w.exited))).toEqual([0, 0]);
    expect(live[0].stderr()).toMatch(
      /SIGTERM: finishing the runs in progress[\s\S]*stopped after \d+ runs/,
    );
  }, 180_000);
});
