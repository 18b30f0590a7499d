/**
 * Durability with a real child process: the CLI runs a simulated day on a virtual clock and is
 * killed with SIGKILL at random instants; after every kill the database passes
 * `PRAGMA integrity_check` and holds every closed window the child reported as committed. The
 * last run ends with SIGTERM, which must flush and exit cleanly within 2 s.
 * (The 100-kill version is the `checkpoint.kill` bench workload.)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CheckpointChild,
  simCheckpointArgs,
  spawnCheckpointDaemon,
} from "../../scripts/bench/checkpoint-child.js";
import { SeededRandom } from "../../src/core/random.js";
import { CLI } from "../support/dist.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "proxkit-kill-"));
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function startDaemon(db: string, forArg = "7d"): CheckpointChild {
  return spawnCheckpointDaemon(
    CLI,
    simCheckpointArgs(forArg, db, "--site", "lab", "--checkpoint", "k1", "--echo-windows"),
  );
}

function inspect(db: string): { integrity: string; ids: Set<string>; open: number } {
  const d = new BetterSqlite3(db);
  try {
    const integrity = d.pragma("integrity_check", { simple: true }) as string;
    const ids = new Set(
      (d.prepare("SELECT id FROM windows").all() as { id: string }[]).map((r) => r.id),
    );
    const open = (d.prepare("SELECT count(*) AS n FROM open_windows").get() as { n: number }).n;
    return { integrity, ids, open };
  } finally {
    d.close();
  }
}

describe("checkpoint daemon under SIGKILL and SIGTERM", () => {
  it("survives SIGKILL at random instants: never corrupt, no committed window lost; SIGTERM exits within 2 s", async () => {
    const db = join(dir, "kill.sqlite");
    const random = new SeededRandom(42);
    const everCommitted = new Set<string>();
    for (let kill = 0; kill < 4; kill++) {
      const run = startDaemon(db);
      await new Promise((r) => setTimeout(r, 300 + random.float() * 1500));
      run.child.kill("SIGKILL");
      const { signal } = await run.exited;
      for (const id of run.committed) everCommitted.add(id);
      const state = inspect(db);
      expect(state.integrity).toBe("ok");
      // A simulated week never finishes within the few seconds of kills, so every kill lands.
      expect(signal).toBe("SIGKILL");
      for (const id of everCommitted) expect(state.ids.has(id), `window ${id}`).toBe(true);
    }
    const last = startDaemon(db);
    await last.started;
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    last.child.kill("SIGTERM");
    const { code } = await last.exited;
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(code, last.stderr()).toBe(0);
    const state = inspect(db);
    expect(state.integrity).toBe("ok");
    expect(state.open).toBe(0);
    for (const id of [...everCommitted, ...last.committed]) expect(state.ids.has(id)).toBe(true);
    expect(state.ids.size).toBeGreaterThan(0);
  }, 120_000);
});
