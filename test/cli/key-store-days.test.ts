/**
 * Key stores with corrupt days (issue 11, item 3): a day far in the past once made `hci commands`
 * and `firmware schedule` chain for ever and `advertise` fail untyped. Each must now be one line,
 * exit 2, at once.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runAdvertise } from "../../src/cli/commands/advertise.js";
import { KeyFileError } from "../../src/core/errors.js";
import { loadKeyStore } from "../../src/io/key-store-file.js";
import { MAX_KEY_STORE_REACH_DAYS } from "../../src/protocols/key-store.js";
import type { Protocol } from "../../src/protocols/rolling-id-scheme.js";
import { schemeFor } from "../../src/protocols/schemes.js";
import { runCli } from "./run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "proxkit-key-days-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY_HEX = "00112233445566778899aabbccddeeff";

/** Writes a store, with a key of `protocol`'s length in place of `KEY_HEX`. */
function storeFile(name: string, protocol: string, keys: unknown[]): string {
  const path = join(dir, name);
  const hex = "ab".repeat(schemeFor(protocol as Protocol).keyBytes);
  keys = keys.map((k) =>
    k !== null && typeof k === "object" && (k as { key?: unknown }).key === KEY_HEX
      ? { ...k, key: hex }
      : k,
  );
  writeFileSync(
    path,
    JSON.stringify({ format: "proxkit-key-store", version: 1, protocol, retentionDays: 14, keys }),
    { mode: 0o600 },
  );
  return path;
}

const commands = (protocol: string, store: string): [string, string[]][] => [
  ["hci commands", ["hci", "commands", "-p", protocol, "-k", store]],
  [
    "firmware schedule",
    ["firmware", "schedule", "-p", protocol, "-k", store, "-n", "2", "-f", "json"],
  ],
  [
    "advertise --radio sim",
    [
      "advertise",
      "-p",
      protocol,
      "-k",
      store,
      "--radio",
      "sim",
      "--speed",
      "max",
      "--duration",
      "1h",
    ],
  ],
];

function expectOneLine(result: ReturnType<typeof runCli>, elapsedMs: number, message: RegExp) {
  expect(result.code, result.stderr).toBe(2);
  expect(result.stdout).toBe("");
  expect(result.stderr.trim().split("\n")).toHaveLength(1);
  expect(result.stderr).toMatch(message);
  // A CLI start is well under this; the old behaviour never ended.
  expect(elapsedMs).toBeLessThan(15_000);
}

describe("key stores with corrupt days", () => {
  const cases: [string, unknown[], RegExp][] = [
    [
      "day -9007199254740991",
      [{ day: -9007199254740991, key: KEY_HEX }],
      /day -9007199254740991 is outside 0\.\.2932896/,
    ],
    ["day 1e9", [{ day: 1e9, key: KEY_HEX }], /day 1000000000 is outside/],
    ["a null key", [{ day: 20_000, key: null }], /key 0: key is not a hex string/],
    ["a null entry", [null], /key 0 is not a JSON object/],
    ["a fractional day", [{ day: 20_000.5, key: KEY_HEX }], /day is not a whole number/],
    ["a string day", [{ day: "20000", key: KEY_HEX }], /day is not a whole number/],
    // In range, but decades before today: the chain is refused before it starts.
    [
      "day 0 (1970)",
      [{ day: 0, key: KEY_HEX }],
      new RegExp(`more than ${MAX_KEY_STORE_REACH_DAYS} days from`),
    ],
  ];
  for (const protocol of ["dp3t", "bluezone"]) {
    for (const [what, keys, message] of cases) {
      it(`${protocol}, ${what}: one typed line from every command`, () => {
        const store = storeFile(`${protocol}-${what.replace(/\W+/g, "_")}.json`, protocol, keys);
        for (const [name, args] of commands(protocol, store)) {
          const t0 = Date.now();
          const result = runCli(args);
          expectOneLine(result, Date.now() - t0, message);
          expect(result.stderr, name).toMatch(/^proxkit: /);
        }
      }, 120_000);
    }
  }

  it("gaen, day 0: refused too (a fresh key per missed day would be as endless)", () => {
    const store = storeFile("gaen-0.json", "gaen", [{ day: 0, key: KEY_HEX }]);
    for (const [, args] of commands("gaen", store)) {
      const t0 = Date.now();
      expectOneLine(runCli(args), Date.now() - t0, /more than 3650 days from/);
    }
  }, 120_000);

  it("library level: loadKeyStore and runAdvertise fail typed, at once", async () => {
    const far = storeFile("lib-far.json", "dp3t", [{ day: -9007199254740991, key: KEY_HEX }]);
    expect(() => loadKeyStore(far)).toThrow(KeyFileError);
    const old = storeFile("lib-old.json", "dp3t", [{ day: 0, key: KEY_HEX }]);
    const io = { write: () => {}, warn: () => {} };
    for (const keyStore of [far, old]) {
      const t0 = performance.now();
      await expect(
        runAdvertise(
          {
            radio: "sim",
            protocol: "dp3t",
            keyStore,
            speed: Number.POSITIVE_INFINITY,
            durationMs: 3_600_000,
          },
          io,
        ),
      ).rejects.toThrow(KeyFileError);
      expect(performance.now() - t0).toBeLessThan(1000);
    }
  });
});
