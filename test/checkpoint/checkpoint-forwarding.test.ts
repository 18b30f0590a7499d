/**
 * End to end over a real Mosquitto broker: a simulated checkpoint run with --mqtt, a collector
 * subscribed meanwhile; the collector ends with exactly the windows the checkpoint stored, and the
 * checkpoint's outbox is empty. Skipped where Debian's mosquitto is not installed.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, expect, it } from "vitest";
import { simCheckpointArgs } from "../../scripts/bench/checkpoint-child.js";
import { generateReceiptKeyPair } from "../../src/checkpoint/receipt-signature.js";
import { CLI } from "../support/dist.js";
import { MOSQUITTO, MOSQUITTO_TOOL } from "./mosquitto.js";
import { describeWith } from "../support/requirements.js";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

function waitFor(child: ChildProcess, text: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(
      () => reject(new Error(`no "${text}" within ${timeoutMs} ms: ${seen}`)),
      timeoutMs,
    );
    const on = (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", on);
    child.stderr?.on("data", on);
  });
}

const count = (path: string, table: string) => {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describeWith(MOSQUITTO_TOOL)("checkpoint --mqtt", () => {
  let dir: string;
  let broker: ChildProcess | undefined;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "proxkit-fwd-"));
    port = await freePort();
    broker = spawn(MOSQUITTO!, ["-p", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
    await waitFor(broker, "running", 10_000);
  }, 300_000);

  afterAll(() => {
    broker?.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });

  it("forwards every stored window to the collector, once, deleting each on its signed receipt", async () => {
    const url = `mqtt://127.0.0.1:${port}`;
    const checkpointDb = join(dir, "checkpoint.sqlite");
    const collectorDb = join(dir, "collector.sqlite");
    const keys = generateReceiptKeyPair();
    writeFileSync(join(dir, "collector.key"), keys.privatePem, { mode: 0o600 });
    writeFileSync(join(dir, "collector.pub"), keys.publicPem);
    const collector = spawn(
      process.execPath,
      [
        CLI,
        "collect",
        "--mqtt",
        url,
        "--db",
        collectorDb,
        "--receipt-key",
        join(dir, "collector.key"),
      ],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    await waitFor(collector, "subscribed", 20_000);
    const run = spawnSync(
      process.execPath,
      [
        CLI,
        ...simCheckpointArgs(
          "2h",
          checkpointDb,
          "--site",
          "lib",
          "--checkpoint",
          "d1",
          "--mqtt",
          url,
          "--receipt-key",
          join(dir, "collector.pub"),
        ),
      ],
      { encoding: "utf8", timeout: 120_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    const stored = count(checkpointDb, "windows");
    expect(stored).toBeGreaterThan(10);
    expect(count(checkpointDb, "outbox")).toBe(0);
    // The collector commits each window before its PUBACK; give the last ones a moment.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && count(collectorDb, "collected_windows") < stored)
      await new Promise((r) => setTimeout(r, 100));
    const exited = new Promise((r) => collector.on("exit", r));
    collector.kill("SIGTERM");
    await exited;
    expect(count(collectorDb, "collected_windows")).toBe(stored);
  }, 180_000);
});
