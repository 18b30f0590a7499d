import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simCheckpointArgs, spawnCheckpointDaemon } from "../../scripts/bench/checkpoint-child.js";
import { CLI } from "../support/dist.js";

let dir: string;
let db: string;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function windowCount(path: string): { windows: number; integrity: string } {
  const d = new BetterSqlite3(path, { readonly: true });
  try {
    return {
      windows: (d.prepare("SELECT count(*) AS n FROM windows").get() as { n: number }).n,
      integrity: d.pragma("integrity_check", { simple: true }) as string,
    };
  } finally {
    d.close();
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "proxkit-cp-cli-"));
  db = join(dir, "day.sqlite");
  const run = cli(
    simCheckpointArgs(
      "90m",
      db,
      "--clock",
      "virtual",
      "--site",
      "library",
      "--checkpoint",
      "door-1",
      "--start",
      "2026-11-28T08:00Z",
    ),
  );
  if (run.code !== 0) throw new Error(run.stderr);
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("proxkit checkpoint (CLI)", () => {
  it("runs a simulated stretch and reports status", () => {
    const status = cli(["checkpoint", "status", "--db", db, "--format", "json"]);
    expect(status.code, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout);
    expect(s).toMatchObject({
      site: "library",
      checkpoint: "door-1",
      running: false,
      windowsOpen: 0,
    });
    expect(s.windowsStored).toBeGreaterThan(10);
    // No --mqtt: no forwarder, so no outbox either (it would only grow).
    expect(s.outboxDepth).toBe(0);
    expect(s.sightingsPerMinute).toBeGreaterThan(0);
    expect(s.dbBytes).toBeGreaterThan(0);
    const table = cli(["checkpoint", "status", "--db", db, "--format", "table"]);
    expect(table.stdout).toMatch(/outbox depth\s+\d+/);
    expect(table.stdout).toMatch(/disk use/);
  });

  it("reports adoption as table, csv and json", () => {
    const json = cli(["checkpoint", "report", "--db", db, "--footfall", "400", "--format", "json"]);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.totals[0].protocol).toBe("all");
    expect(report.totals[0].devices).toBeGreaterThan(0);
    expect(report.totals[0].share).toBeCloseTo(report.totals[0].devices / 400, 6);
    const csv = cli(["checkpoint", "report", "--db", db, "--format", "csv", "--per", "hour"]);
    expect(csv.stdout.split("\n")[0]).toBe(
      "hour,protocol,devices,arrivals,dwell_p50_s,dwell_p90_s",
    );
    const table = cli([
      "checkpoint",
      "report",
      "--db",
      db,
      "--from",
      "2026-11-28T08:00Z",
      "--to",
      "2026-11-28T09:00Z",
    ]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/Per hour:/);
  });

  it("refuses bad input with one line and exit 2, losing nothing stored", () => {
    const before = windowCount(db);
    const notes = join(dir, "notes.txt");
    writeFileSync(notes, "not a database\n".repeat(50));
    const badConfig = join(dir, "bad.json");
    writeFileSync(badConfig, '{"site": "x", "retentionDays": -1}');
    const cases: [string[], RegExp][] = [
      [
        ["checkpoint", "--radio", "bluetooth", "--db", db],
        /invalid values: argument: radio, given: "bluetooth", choices: "sim", "replay", "hci"/i,
      ],
      [["checkpoint", "--radio", "sim", "--db", db, "--for", "1h"], /needs --scenario/],
      [
        ["checkpoint", "--radio", "sim", "--scenario", "nowhere", "--for", "1h", "--db", db],
        /unknown scenario|cannot read scenario/,
      ],
      [simCheckpointArgs("soon", db), /--for must be a duration/],
      [simCheckpointArgs("1h", notes), /not a SQLite database/],
      [simCheckpointArgs("1h", db, "--config", badConfig), /retentionDays must be a number/],
      [simCheckpointArgs("1h", db, "--site", "a/b"), /cannot be an MQTT topic level/],
      [simCheckpointArgs("1h", db, "--mqtt", "http://x"), /--mqtt/],
      [simCheckpointArgs("1h", db, "--protocol", "zigbee"), /--protocol must be one of/],
      [simCheckpointArgs("1h", db, "--scan-period", "30"), /--scan-period must be 0 .* or 60/],
      [simCheckpointArgs("1h", db, "--scan-period", "1m"), /--scan-period must be/],
      [["checkpoint", "report", "--db", join(dir, "missing.sqlite")], /no such file/],
      [["checkpoint", "report", "--db", notes], /not a SQLite database|not a proxkit/],
      [["checkpoint", "report", "--db", db, "--footfall", "-3"], /--footfall must be between/],
      [
        ["checkpoint", "report", "--db", db, "--from", "2026-11-29", "--to", "2026-11-28"],
        /--to must be after --from/,
      ],
      [["checkpoint", "report", "--db", db, "--format", "xml"], /--format must be/],
      [["checkpoint", "status", "--db", join(dir, "missing.sqlite")], /no such file/],
      [["checkpoint", "--db", db], /radio/],
    ];
    for (const [args, message] of cases) {
      const r = cli(args);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(r.stderr, args.join(" ")).toMatch(message);
    }
    expect(readFileSync(notes, "utf8")).toBe("not a database\n".repeat(50));
    expect(existsSync(join(dir, "missing.sqlite"))).toBe(false);
    expect(windowCount(db)).toEqual(before);
  }, 120_000);

  it("says so when the simulated run in the database is already complete", () => {
    const r = cli(simCheckpointArgs("1h", db));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/already holds a simulated run up to 2026-11-28T09:30:00.000Z/);
  }, 120_000);

  it("refuses to run a second daemon on a database another one is writing to", async () => {
    const live = join(dir, "live.sqlite");
    const args = simCheckpointArgs("1h", live, "--clock", "real");
    const first = spawnCheckpointDaemon(CLI, args);
    await first.started;
    await new Promise((r) => setTimeout(r, 1500));
    const second = cli(args);
    first.child.kill("SIGTERM");
    await first.exited;
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/another checkpoint daemon is writing to --db/);
  }, 60_000);

  it("--help teaches the options with examples", () => {
    const help = cli(["checkpoint", "--help"]);
    expect(help.stdout).toMatch(/--radio/);
    expect(help.stdout).toMatch(/--clock virtual --for 24h/);
    expect(help.stdout).toMatch(/--scan-period/);
    expect(help.stdout).toMatch(/25\.5 s/);
    expect(cli(["checkpoint", "report", "--help"]).stdout).toMatch(/--footfall/);
  });
});
