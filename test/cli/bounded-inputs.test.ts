/** Issue 11 items 4 and 6: devices, FIFOs, huge files and huge lines fail with one line, fast. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "proxkit-bounded-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fifo = join(dir, "pipe");
const haveFifo = spawnSync("mkfifo", [fifo]).status === 0;

const sightings = join(dir, "sightings.jsonl");
const longLine = join(dir, "long-line.jsonl");
const longCsv = join(dir, "long-line.csv");
writeFileSync(sightings, "");
writeFileSync(longLine, `{"t": 1, "rpi": "${"a".repeat(2 * 1024 * 1024)}"}\n`);
writeFileSync(longCsv, `time,rssi\n1,${"9".repeat(2 * 1024 * 1024)}\n`);

function expectOneLineRefusal(args: string[], pattern: RegExp): void {
  const startMs = Date.now();
  const { code, stderr } = runCli(args);
  expect(Date.now() - startMs).toBeLessThan(5000);
  expect(code).toBe(2);
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(stderr).toMatch(pattern);
}

describe("file options refuse devices, FIFOs and huge lines with one line", () => {
  it.each([
    [["distance", "--input", "/dev/zero"], /--input \/dev\/zero is not a file \(it is a device\)/],
    [["match", "--keys", "/dev/zero", "--sightings", sightings], /\/dev\/zero is not a file/],
    [
      ["match", "--keys", sightings, "--sightings", "/dev/zero"],
      /sightings file \/dev\/zero is not a file/,
    ],
    [["simulate", "--scenario", "/dev/zero"], /scenario file \/dev\/zero is not a file/],
    [["keys", "inspect", "/dev/zero"], /\/dev\/zero is not a file/],
    [
      ["keys", "inspect", "x.zip", "--public-key", "/dev/zero"],
      /public key \/dev\/zero is not a file/,
    ],
    [
      ["distance", "--input", sightings, "--calibration", "/dev/zero"],
      /calibration table \/dev\/zero is not a file/,
    ],
    [
      ["match", "--keys", sightings, "--sightings", longLine],
      /long-line\.jsonl line 1 is longer than 1 MB/,
    ],
    [["distance", "--input", longCsv], /long-line\.csv line 2 is longer than 1 MB/],
    [
      ["advertise", "--radio", "sim", "--protocol", "gaen", "--key-store", "/dev/zero"],
      /key store \/dev\/zero is not a file/,
    ],
    [
      ["hci", "commands", "--protocol", "gaen", "--key-store", "/dev/zero"],
      /key store \/dev\/zero is not a file/,
    ],
    [
      ["checkpoint", "--radio", "sim", "--db", join(dir, "c.sqlite"), "--config", "/dev/zero"],
      /--config \/dev\/zero is not a file/,
    ],
    [
      ["scan", "--radio", "replay", "--capture", "/dev/zero", "--duration", "1s"],
      /capture \/dev\/zero is not a file/,
    ],
  ])("%j", (args, pattern) => expectOneLineRefusal(args, pattern));

  it.skipIf(!haveFifo)("does not wait on a FIFO", () => {
    expectOneLineRefusal(["distance", "--input", fifo], /is not a file \(it is a FIFO\)/);
    expectOneLineRefusal(["keys", "inspect", fifo], /pipe is not a file/);
    expectOneLineRefusal(
      ["match", "--keys", `${fifo}`, "--sightings", sightings],
      /pipe is not a file/,
    );
    expectOneLineRefusal(["simulate", "--scenario", fifo], /is not a file \(it is a FIFO\)/);
  });
});
