/**
 * Issue 11 item 13: an output path that cannot be written fails at once, in one line (exit 2),
 * before any work, and `firmware schedule` leaves its key store byte for byte as it was.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLI, runCli } from "./run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "proxkit-out-paths-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const aFile = join(dir, "a-file");
writeFileSync(aFile, "not a folder\n");
const aFolder = join(dir, "a-folder");
mkdirSync(aFolder);
/** /proc refuses new entries with ENOENT, on which Node's recursive mkdir used to spin for ever. */
const HAVE_PROC = existsSync("/proc/self");

/** Runs the CLI, killed after 20 s; expects exit 2 and one line on stderr within 5 s. */
function expectQuickRefusal(args: string[], pattern: RegExp): void {
  const startMs = Date.now();
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    timeout: 20_000,
  });
  expect(result.signal, "the command hung and was killed").toBeNull();
  expect(Date.now() - startMs).toBeLessThan(5000);
  expect(result.status, result.stderr).toBe(2);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(result.stderr).toMatch(pattern);
}

describe("output folders are checked before any work", () => {
  const simulate = ["simulate", "--scenario", "tram", "--duration", "3600"];

  it.skipIf(!HAVE_PROC)("simulate --out /proc/x fails at once instead of looping", () => {
    expectQuickRefusal([...simulate, "--out", "/proc/proxkit-x"], /--out \/proc\/proxkit-x/);
    expectQuickRefusal([...simulate, "--out", "/proc/proxkit-x/y/z"], /--out \/proc/);
  });

  it("simulate --out naming a file, or a path through a file", () => {
    expectQuickRefusal([...simulate, "--out", aFile], /--out .*a-file: it is not a folder/);
    expectQuickRefusal(
      [...simulate, "--out", join(aFile, "run")],
      /--out .*a-file\/run: part of the path is a file/,
    );
  });

  it.skipIf(!HAVE_PROC)("evaluate --report /proc/x fails before the evaluation", () => {
    expectQuickRefusal(
      ["evaluate", "--dataset", "all", "--data", dir, "--report", "/proc/proxkit-x"],
      /--report \/proc\/proxkit-x/,
    );
  });
});

describe("firmware schedule leaves the key store alone when its output cannot be written", () => {
  function newStore(name: string): string {
    const path = join(dir, name);
    const made = runCli(["keys", "new", "-p", "gaen", "-o", path]);
    expect(made.code, made.stderr).toBe(0);
    return path;
  }
  const schedule = (store: string, out: string, ...more: string[]) => [
    "firmware",
    "schedule",
    "-p",
    "gaen",
    "-k",
    store,
    "-n",
    "3",
    "-f",
    "json",
    "-o",
    out,
    ...more,
  ];

  const cases: [string, string, string[], RegExp][] = [
    ["a missing folder", join(dir, "missing", "s.json"), [], /folder .*missing does not exist/],
    ["a folder", aFolder, ["--force"], /a-folder: it is a folder/],
    ["a path through a file", join(aFile, "s.json"), [], /cannot create .*a-file\/s\.json/],
    ["an existing file", aFile, [], /already exists/],
  ];
  if (HAVE_PROC) cases.push(["/proc", "/proc/proxkit-s.json", [], /\/proc does not take new/]);

  it.each(cases)("%s", (_name, out, more, pattern) => {
    const store = newStore(`store-${cases.findIndex((c) => c[1] === out)}.json`);
    const before = readFileSync(store);
    expectQuickRefusal(schedule(store, out, ...more), pattern);
    expect(readFileSync(store).equals(before), "the key store changed").toBe(true);
  });

  it("a writable --out still gets the schedule, and the store the new keys", () => {
    const store = newStore("store-ok.json");
    const before = readFileSync(store);
    const out = join(dir, "ok.json");
    const { code, stderr } = runCli(schedule(store, out));
    expect(code, stderr).toBe(0);
    expect(JSON.parse(readFileSync(out, "utf8")).entries.length).toBeGreaterThan(0);
    expect(readFileSync(store).equals(before)).toBe(false);
  });
});
