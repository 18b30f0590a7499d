import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { connect } from "mqtt";
import { describe, expect, it } from "vitest";
import { CLI, runCli } from "../cli/run-cli.js";
import { Mosquitto, mqttTestFile, waitFor, MOSQUITTO_TOOL } from "./mosquitto.js";
import { describeWith } from "../support/requirements.js";

const dir = mqttTestFile("proxkit-collect-cli-");

describe("proxkit collect: bad options", () => {
  const cases: [string, string[], RegExp][] = [
    ["no --mqtt", ["--db", "x.sqlite"], /Missing required argument: mqtt/],
    ["a --mqtt that is not a URL", ["--mqtt", "broker:1883", "--db", "x.sqlite"], /--mqtt/],
    ["an http:// URL", ["--mqtt", "http://h", "--db", "x.sqlite"], /must be mqtt:\/\/host/],
    [
      "a --topic with a misplaced wildcard",
      ["--mqtt", "mqtt://127.0.0.1:1", "--db", "x.sqlite", "--topic", "proxkit/#/windows"],
      /--topic "proxkit\/#\/windows" is not an MQTT topic filter/,
    ],
    [
      "a --db in a missing folder",
      ["--mqtt", "mqtt://127.0.0.1:1", "--db", "/nonexistent/folder/x.sqlite"],
      /--db .* the folder \/nonexistent\/folder does not exist/,
    ],
  ];
  for (const [what, args, message] of cases) {
    it(`${what}: one line, exit 2`, () => {
      const { code, stderr } = runCli(["collect", ...args]);
      expect(code).toBe(2);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).toMatch(message);
    });
  }

  it("--help describes every option with examples", () => {
    const { code, stdout } = runCli(["collect", "--help"]);
    expect(code).toBe(0);
    for (const option of ["--mqtt", "--db", "--topic", "--client-id", "--receipts", "Examples:"])
      expect(stdout).toContain(option);
  });
});

describeWith(MOSQUITTO_TOOL)("proxkit collect against Mosquitto", () => {
  it("stores what is published, warns about a malformed message, and exits 0 on SIGTERM", async () => {
    const broker = await Mosquitto.start();
    const path = join(dir(), "fleet.sqlite");
    const child = spawn(process.execPath, [CLI, "collect", "--mqtt", broker.url, "--db", path], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const publisher = connect(broker.url, { clientId: "cli-publisher", reconnectPeriod: 0 });
    try {
      await waitFor(() => stderr.includes("subscribed to proxkit/+/+/windows"), "the collector");
      await waitFor(() => publisher.connected, "the publisher");
      await publisher.publishAsync("proxkit/venue-a/door-1/windows", '{"id":"door-1:01:1"}', {
        qos: 1,
      });
      await publisher.publishAsync("proxkit/venue-a/door-1/windows", "oops", { qos: 1 });
      await publisher.publishAsync("proxkit/venue-a/door-1/windows", '{"id":"door-1:01:1"}', {
        qos: 1,
      });
      await waitFor(() => stderr.includes("ignored a message"), "the warning");
      await waitFor(() => {
        const db = new Database(path, { readonly: true, fileMustExist: true });
        try {
          return (
            (db.prepare("SELECT count(*) AS n FROM collected_windows").get() as { n: number }).n ===
            1
          );
        } finally {
          db.close();
        }
      }, "the window in the database");
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
      await publisher.endAsync();
      await broker.dispose();
    }
    expect(stderr).toMatch(
      /ignored a message on "proxkit\/venue-a\/door-1\/windows": payload is not JSON/,
    );
    expect(stderr).toMatch(/stopped: 1 new windows stored, 1 duplicates ignored, 1 malformed/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  }, 120_000);
});
