/**
 * Issue 11 items 11 and 12: options repeated, given without a value or out of range, and
 * output paths in a missing folder, fail before any work with one line naming the option.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "proxkit-option-errors-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const missing = join(dir, "no-such-folder");
const export_ = ["keys", "export", "--keys", "k.jsonl", "--signing-key", "s.pem", "-o", "x.zip"];
const huge = "100000000000000000000000s";

const cases: [string, string[], RegExp][] = [
  // item 11: repeated or valueless options
  ["ids --key --key", ["ids", "-p", "dp3t", "--key", "--key"], /--key was given more than once/],
  [
    "ids --key twice",
    ["ids", "-p", "dp3t", "-k", "aa", "--key", "bb"],
    /--key was given more than once/,
  ],
  ["ids --start", ["ids", "-p", "gaen", "-k", "aa", "--start"], /--start needs a value/],
  ["adv encode --id", ["adv", "encode", "-p", "dp3t", "--id"], /--id needs a value/],
  ["keys new -o", ["keys", "new", "-p", "gaen", "-o"], /--out needs a value/],
  [
    "keys export -o",
    ["keys", "export", "--keys", "k", "--signing-key", "s", "-o"],
    /--out needs a value/,
  ],
  ["keys export --region", [...export_, "--region"], /--region needs a value/],
  ["keys export --key-id", [...export_, "--key-id"], /--key-id needs a value/],
  ["keys export --key-version", [...export_, "--key-version"], /--key-version needs a value/],
  [
    "keys export --region twice",
    [...export_, "--region", "DE", "--region", "FR"],
    /--region was given more than once/,
  ],
  ["distance --rx-model", ["distance", "-i", "x.csv", "--rx-model"], /--rx-model needs a value/],
  [
    "hci commands --at",
    ["hci", "commands", "-p", "gaen", "-k", "k.json", "--at"],
    /--at needs a value/,
  ],
  ["hci capture -o", ["hci", "capture", "-o"], /--out needs a value/],
  ["hci capture --start", ["hci", "capture", "-o", "x.log", "--start"], /--start needs a value/],
  ["firmware --from", ["firmware", "schedule", "--from"], /--from needs a value/],
  [
    "firmware -o",
    ["firmware", "schedule", "-p", "gaen", "-k", "k.json", "-o"],
    /--out needs a value/,
  ],
  ["simulate --preset", ["simulate", "--preset"], /--preset needs a value/],
  [
    "number twice",
    ["simulate", "--default-job", "--agents", "3", "--agents", "4"],
    /--agents was given more than once/,
  ],
  // item 11: an output path in a missing folder
  [
    "keys new -o in a missing folder",
    ["keys", "new", "-p", "gaen", "-o", join(missing, "k.json")],
    /cannot create .*folder .*no-such-folder does not exist/,
  ],
  [
    "hci capture -o in a missing folder",
    ["hci", "capture", "-o", join(missing, "x.log")],
    /cannot create .*folder .*no-such-folder does not exist/,
  ],
  // item 12: accepted today although wrong
  [
    "match --rx-correction abc",
    ["match", "--keys", "k", "--sightings", "s", "--rx-correction", "abc"],
    /--rx-correction must be a number, got "abc"/,
  ],
  ["match --keys", ["match", "--keys", "--sightings", "s.jsonl"], /--keys needs a value/],
  [
    "demo --day 2020-02-30",
    ["demo", "--day", "2020-02-30"],
    /--day must be a date YYYY-MM-DD, got "2020-02-30"/,
  ],
  ["bench --only ''", ["bench", "--only", ""], /--only needs a value/],
  [
    "checkpoint --for huge",
    [
      "checkpoint",
      "--radio",
      "sim",
      "--scenario",
      "checkpoint-queue",
      "--db",
      join(dir, "c.db"),
      "--for",
      huge,
    ],
    /--for must be at most 10 years/,
  ],
  [
    "scan --duration huge",
    ["scan", "--radio", "sim", "--duration", huge],
    /--duration must be at most 10 years/,
  ],
  [
    "advertise --duration huge",
    ["advertise", "-p", "gaen", "-k", "k.json", "--radio", "sim", "--duration", huge],
    /--duration must be at most 10 years/,
  ],
  // The CLI fuzz test (cli-fuzz.test.ts) found these accepted.
  [
    "a number option twice with the same value (yargs sums them)",
    ["match", "--keys", "k", "--sightings", "s", "--rx-correction", "1", "--rx-correction", "1"],
    /--rx-correction was given more than once/,
  ],
  [
    "an empty number option (yargs reads it as 0)",
    ["simulate", "--scenario", "tram", "--index-share", ""],
    /--index-share needs a value/,
  ],
  [
    "match --rx-correction out of range",
    ["match", "--keys", "k", "--sightings", "s", "--rx-correction", "1e308"],
    /--rx-correction must be -100\.\.100 dB, got 1e\+308/,
  ],
  [
    "an unknown --foo-bar is named once (yargs adds fooBar)",
    ["ids", "-p", "gaen", "-k", "00".repeat(16), "--foo-bar", "1"],
    /Unknown argument: foo-bar \(see --help\)\n/,
  ],
  [
    "an impossible date in an ISO option",
    ["ids", "-p", "gaen", "-k", "00".repeat(16), "--start", "2021-02-29"],
    /not a valid date-time: "2021-02-29"/,
  ],
];

describe("bad option values fail with one line naming the option, exit 2", () => {
  it.each(cases)("%s", (_name, args, pattern) => {
    const startMs = Date.now();
    const { code, stdout, stderr } = runCli(args);
    expect(Date.now() - startMs).toBeLessThan(10_000);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(/^proxkit: /);
    expect(stderr).toMatch(pattern);
    expect(code).toBe(2);
    expect(stdout).toBe("");
  });
});

describe("options declared as arrays still take several values", () => {
  it("bench --only a --only b is not refused as repeated", () => {
    const { stderr } = runCli(["bench", "--list", "--only", "x", "--only", "y"]);
    expect(stderr).not.toMatch(/given more than once|needs a value/);
  });
});
