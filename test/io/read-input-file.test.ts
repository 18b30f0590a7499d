import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { checkInputFile, readInputFile, readInputLines } from "../../src/io/read-input-file.js";

const dir = mkdtempSync(join(tmpdir(), "proxkit-read-input-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fifo = join(dir, "pipe");
const haveFifo = spawnSync("mkfifo", [fifo]).status === 0;

/** Runs `read`, expecting a one-line ConfigError matching `pattern`, within a second. */
async function expectRefused(read: () => unknown, pattern: RegExp): Promise<void> {
  const startMs = Date.now();
  let caught: unknown;
  try {
    const result = await read();
    if (result && typeof (result as AsyncIterable<string>)[Symbol.asyncIterator] === "function")
      for await (const _ of result as AsyncIterable<string>);
  } catch (error) {
    caught = error;
  }
  expect(Date.now() - startMs).toBeLessThan(1000);
  expect(caught).toBeInstanceOf(ConfigError);
  const message = (caught as Error).message;
  expect(message).not.toContain("\n");
  expect(message).toMatch(pattern);
}

describe("readInputFile", () => {
  it.skipIf(!haveFifo)(
    "refuses a FIFO without opening it (it would wait for a writer)",
    async () => {
      await expectRefused(
        () => readInputFile(fifo, { what: "--input" }),
        /--input .*pipe is not a file \(it is a FIFO\)/,
      );
      await expectRefused(() => readInputLines(fifo, { what: "--input" }), /is a FIFO/);
    },
  );

  it("refuses /dev/zero and a folder", async () => {
    await expectRefused(
      () => readInputFile("/dev/zero", { what: "scenario file" }),
      /scenario file \/dev\/zero is not a file \(it is a device\)/,
    );
    await expectRefused(
      () => readInputLines("/dev/zero", { what: "sightings file" }),
      /is a device/,
    );
    await expectRefused(
      () => readInputFile(dir, { what: "--config" }),
      /is not a file \(it is a folder\)/,
    );
  });

  it("refuses a file over the limit from its size, naming both", async () => {
    const path = join(dir, "big.json");
    writeFileSync(path, Buffer.alloc(2048, 0x20));
    await expectRefused(
      () => readInputFile(path, { what: "scenario file", maxBytes: 1024 }),
      /scenario file .*big\.json is 2 KB, over the 1 KB limit/,
    );
    expect(checkInputFile(path, { what: "x", maxBytes: 2048 })).toBe(2048);
  });

  it("says a missing file is missing, or uses the caller's message", async () => {
    const path = join(dir, "nope.csv");
    await expectRefused(
      () => readInputFile(path, { what: "--input" }),
      /cannot read --input .*nope\.csv: no such file/,
    );
    await expectRefused(() => readInputLines(path, { what: "--input" }), /no such file/);
    await expectRefused(() => readInputFile(path, { what: "run file", missing: "gone" }), /^gone$/);
  });

  it("reads a regular file whole", () => {
    const path = join(dir, "ok.json");
    writeFileSync(path, '{"a": "é"}');
    expect(readInputFile(path, { what: "scenario file" })).toBe('{"a": "é"}');
  });
});

describe("readInputLines", () => {
  const collect = async (path: string, maxLineBytes?: number) => {
    const lines: string[] = [];
    for await (const line of readInputLines(path, { what: "sightings file", maxLineBytes }))
      lines.push(line);
    return lines;
  };

  it("splits on \\n and \\r\\n, keeps blank lines, and yields a last line without a break", async () => {
    const path = join(dir, "lines.jsonl");
    writeFileSync(path, "a\r\n\nbé\nc");
    expect(await collect(path)).toEqual(["a", "", "bé", "c"]);
    writeFileSync(path, "a\n");
    expect(await collect(path)).toEqual(["a"]);
    writeFileSync(path, "");
    expect(await collect(path)).toEqual([]);
  });

  it("accepts a line of exactly the limit, also with \\r\\n", async () => {
    const path = join(dir, "edge.csv");
    writeFileSync(path, `${"x".repeat(16)}\r\n${"y".repeat(16)}`);
    expect(await collect(path, 16)).toEqual(["x".repeat(16), "y".repeat(16)]);
  });

  it("fails on a 2 MiB line, naming file and line, before the line is whole", async () => {
    const path = join(dir, "one-line.jsonl");
    writeFileSync(path, `{"a": "${"x".repeat(2 * 1024 * 1024)}"}\n{}\n`);
    await expectRefused(
      () => collect(path),
      /sightings file .*one-line\.jsonl line 1 is longer than 1 MB/,
    );
    writeFileSync(path, `{}\n\n{"a": "${"x".repeat(2 * 1024 * 1024)}"}`);
    await expectRefused(() => collect(path), /one-line\.jsonl line 3 is longer/);
  });

  it("stops reading /dev/zero-like streams early: a 200 KB line under a 64 KB limit", async () => {
    const path = join(dir, "no-newline.bin");
    writeFileSync(path, Buffer.alloc(200 * 1024));
    await expectRefused(() => collect(path, 64 * 1024), /line 1 is longer than 64 KB/);
  });
});
