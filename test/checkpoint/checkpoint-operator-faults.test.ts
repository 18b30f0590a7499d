/**
 * Issue 11, items 8-10 and 13 through the CLI: a foreign SQLite file given as --db is refused and
 * left byte-identical; `status` and `report` read a database in a read-only folder and say what
 * is wrong with a newer schema; an unreachable --mqtt does not hold up a simulated run; on a full
 * disk a simulated run ends, says so once, and `status` reports it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simCheckpointArgs } from "../../scripts/bench/checkpoint-child.js";
import { SCHEMA_VERSION } from "../../src/checkpoint/schema.js";
import { CLI } from "../support/dist.js";

let dir: string;
let db: string;

function cli(args: string[], as?: string) {
  const [command, prefix] = as
    ? ["runuser", ["-u", as, "--", process.execPath]]
    : [process.execPath, []];
  const r = spawnSync(command, [...prefix, CLI, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const isRoot = process.getuid?.() === 0;
const hasRunuser = isRoot && spawnSync("runuser", ["--help"]).status === 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "proxkit-cp-faults-"));
  chmodSync(dir, 0o755);
  db = join(dir, "day.sqlite");
  const run = cli(
    simCheckpointArgs("30m", db, "--clock", "virtual", "--start", "2026-11-28T08:00Z"),
  );
  if (run.code !== 0) throw new Error(run.stderr);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("checkpoint: operator faults", () => {
  it("refuses another application's SQLite file as --db and leaves it byte-identical", () => {
    const foreign = join(dir, "shop.sqlite");
    const d = new BetterSqlite3(foreign);
    d.exec("CREATE TABLE orders (id INTEGER, item TEXT); INSERT INTO orders VALUES (1, 'tea');");
    d.close();
    const before = readFileSync(foreign);
    for (const args of [
      simCheckpointArgs("10m", foreign, "--clock", "virtual"),
      ["checkpoint", "status", "--db", foreign],
      ["checkpoint", "report", "--db", foreign],
    ]) {
      const r = cli(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/holds other tables \(orders\).*not a proxkit checkpoint database/);
    }
    expect(readFileSync(foreign).equals(before)).toBe(true);
  });

  it.skipIf(!hasRunuser && isRoot)(
    "status and report read a database in a folder the reader cannot write",
    () => {
      const folder = join(dir, "readonly");
      mkdirSync(folder);
      const copy = join(folder, "cp.sqlite");
      copyFileSync(db, copy);
      chmodSync(copy, 0o644);
      chmodSync(folder, 0o555);
      try {
        // As root, permissions do not bind: read as `nobody` instead.
        const as = isRoot ? "nobody" : undefined;
        const status = cli(["checkpoint", "status", "--db", copy, "--format", "json"], as);
        expect(status.code, status.stderr).toBe(0);
        expect(JSON.parse(status.stdout).windowsStored).toBeGreaterThan(0);
        const report = cli(["checkpoint", "report", "--db", copy, "--format", "json"], as);
        expect(report.code, report.stderr).toBe(0);
        expect(JSON.parse(report.stdout).totals.length).toBeGreaterThan(0);
      } finally {
        chmodSync(folder, 0o755);
      }
    },
  );

  it("status and report name a newer schema instead of reading it silently", () => {
    const newer = join(dir, "newer.sqlite");
    copyFileSync(db, newer);
    const d = new BetterSqlite3(newer);
    d.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    d.close();
    for (const command of ["status", "report"]) {
      const r = cli(["checkpoint", command, "--db", newer]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(
        new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer than this proxkit reads`),
      );
    }
  });

  it("an unreachable --mqtt does not hold up a simulated run; its windows stay queued", async () => {
    // A port nothing listens on.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const out = join(dir, "unreachable.sqlite");
    const t0 = Date.now();
    const r = cli(
      simCheckpointArgs("10m", out, "--clock", "virtual", "--mqtt", `mqtt://127.0.0.1:${port}`),
    );
    const seconds = (Date.now() - t0) / 1000;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/windows stay in the outbox .*the broker cannot be reached/);
    // Not a timing assertion on speed: the 30 s drain wait it used to sit through.
    expect(seconds).toBeLessThan(20);
    const status = cli(["checkpoint", "status", "--db", out, "--format", "json"]);
    const s = JSON.parse(status.stdout);
    expect(s.outboxDepth).toBe(s.windowsStored);
  });
});

/** A 1 MiB tmpfs: a real full disk (needs root and mount; skipped elsewhere). */
function mountTinyDisk(): string | undefined {
  if (!isRoot) return undefined;
  const mountPoint = mkdtempSync(join(tmpdir(), "proxkit-full-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint], {
      stdio: "ignore",
    });
    return mountPoint;
  } catch {
    rmSync(mountPoint, { recursive: true, force: true });
    return undefined;
  }
}

describe("checkpoint on a full disk (CLI)", () => {
  const disk = mountTinyDisk();
  afterAll(() => {
    if (!disk) return;
    spawnSync("umount", [disk]);
    rmSync(disk, { recursive: true, force: true });
  });

  it.skipIf(!disk)(
    "a simulated day ends, reports the failure once, and status shows it; with room again it resumes",
    () => {
      const path = join(disk!, "cp.sqlite");
      const r = cli(simCheckpointArgs("24h", path, "--clock", "virtual", "--research"));
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stderr.trim().split("\n");
      expect(lines.filter((l) => /cannot write to/.test(l))).toHaveLength(1);
      expect(lines.length).toBeLessThan(8);
      expect(r.stderr).toMatch(/still cannot be written .* lost/);
      // The daemon stopped but could not record it: status says why it is not writing.
      const status = cli(["checkpoint", "status", "--db", path, "--format", "json"]);
      expect(status.code, status.stderr).toBe(0);
      expect(JSON.parse(status.stdout).writeState).toBe("disk-full");
      const table = cli(["checkpoint", "status", "--db", path, "--format", "table"]);
      expect(table.stdout).toMatch(/NOT WRITING: the disk is full/);
      // Room again: a run on the same database resumes and stores.
      execFileSync("mount", ["-o", "remount,size=64m", disk!]);
      const again = cli(
        simCheckpointArgs("1h", path, "--clock", "virtual", "--start", "2026-11-29T00:00Z"),
      );
      expect(again.code, again.stderr).toBe(0);
      const after = JSON.parse(
        cli(["checkpoint", "status", "--db", path, "--format", "json"]).stdout,
      );
      expect(after.writeState).toBe("stopped");
      expect(after.windowsStored).toBeGreaterThan(0);
    },
    120_000,
  );
});
