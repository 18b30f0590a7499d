import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expandGrid } from "../../../sim/sweep/grid.js";
import { collectRows, runDir, runLocalSweep } from "../../../sim/sweep/local-sweep.js";
import { RESULT_FILE } from "../../../sim/sweep/run-entry.js";

const out = mkdtempSync(join(tmpdir(), "proxkit-sweep-resume-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

// Short runs with a short close time, so that some pairs are close contacts.
const { entries } = expandGrid({
  scenario: "classroom",
  agents: 20,
  durationS: 300,
  closeMinutes: 2,
  seeds: "1-3",
  presets: [["proxkit", "cwa-v2"]],
});

describe("local sweep", () => {
  it("resumes: redoes only the runs without a finished folder, and the rows come out the same", async () => {
    const ran: number[] = [];
    const first = await runLocalSweep(entries, out, {
      workers: 1,
      onRun: (_d, _t, e) => ran.push(e.index),
    });
    expect(first).toEqual({ ran: 3, skipped: 0 });
    expect(ran).toEqual([0, 1, 2]);
    const before = collectRows(entries, out);
    expect(before.missing).toEqual([]);
    // proxkit and cwa-v2, then the reference rows (heard, ceiling, ceiling-scans).
    expect(before.rows.map((r) => r.rule).slice(0, 5)).toEqual([
      "proxkit",
      "cwa-v2",
      "heard",
      "ceiling",
      "ceiling-scans",
    ]);
    expect(before.rows.some((r) => r.closeContacts > 0)).toBe(true);

    // As an interrupted sweep leaves things: run 1 never renamed into place (a partial folder of
    // a process that is gone), run 2's folder without its result.
    const keptMs = statSync(join(runDir(out, entries[0]), RESULT_FILE)).mtimeMs;
    rmSync(runDir(out, entries[1]), { recursive: true });
    const stale = `${runDir(out, entries[1])}.partial-${hostname()}-999999999`;
    mkdirSync(stale);
    rmSync(join(runDir(out, entries[2]), RESULT_FILE));
    expect(collectRows(entries, out).missing.map((e) => e.index)).toEqual([1, 2]);

    ran.length = 0;
    const second = await runLocalSweep(entries, out, {
      workers: 1,
      onRun: (_d, _t, e) => ran.push(e.index),
    });
    expect(second).toEqual({ ran: 2, skipped: 1 });
    expect(ran).toEqual([1, 2]);
    expect(existsSync(stale)).toBe(false);
    expect(statSync(join(runDir(out, entries[0]), RESULT_FILE)).mtimeMs).toBe(keptMs);
    expect(collectRows(entries, out)).toEqual(before);

    // Nothing left to do: a third sweep runs nothing.
    expect(await runLocalSweep(entries, out, { workers: 1 })).toEqual({ ran: 0, skipped: 3 });
  }, 60_000);
});
