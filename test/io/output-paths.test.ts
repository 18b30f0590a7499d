/** Output files and folders: checked (and written aside) before anything is replaced. */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, KeyFileError } from "../../src/core/errors.js";
import { prepareFileAtomic, writeFileAtomic } from "../../src/io/atomic-write.js";
import { prepareOutputFolder } from "../../src/io/output-folder.js";

const dir = mkdtempSync(join(tmpdir(), "proxkit-output-paths-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const HAVE_PROC = existsSync("/proc/self");

function expectConfigError(fn: () => unknown, message: RegExp): void {
  expect(fn).toThrow(ConfigError);
  expect(fn).toThrow(message);
}

describe("prepareFileAtomic", () => {
  it("writes aside; commit moves the file into place, abort leaves no trace", () => {
    const path = join(dir, "a.txt");
    const prepared = prepareFileAtomic(path, "one\n");
    expect(existsSync(path)).toBe(false);
    prepared.commit();
    expect(readFileSync(path, "utf8")).toBe("one\n");
    prepareFileAtomic(path, "two\n").abort();
    expect(readFileSync(path, "utf8")).toBe("one\n");
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("refuses, before writing anything, what it could not commit", () => {
    const folder = join(dir, "folder");
    mkdirSync(folder);
    expectConfigError(() => prepareFileAtomic(folder, "x"), /it is a folder/);
    expectConfigError(
      () => prepareFileAtomic("/dev/null", "x"),
      /\/dev\/null: it is not a regular file/,
    );
    const existing = join(dir, "existing");
    writeFileSync(existing, "keep");
    expect(() =>
      writeFileAtomic(existing, "x", { overwrite: false, inputError: KeyFileError }),
    ).toThrow(KeyFileError);
    expect(readFileSync(existing, "utf8")).toBe("keep");
    expectConfigError(
      () => prepareFileAtomic(join(dir, "missing", "x"), "x"),
      /folder .*missing does not exist/,
    );
    expectConfigError(() => prepareFileAtomic(join(existing, "x"), "x"), /cannot create/);
  });

  it.skipIf(!HAVE_PROC)("names /proc as a folder that takes no new files", () => {
    expectConfigError(
      () => prepareFileAtomic("/proc/proxkit-x", "x"),
      /\/proc does not take new files/,
    );
  });
});

describe("prepareOutputFolder", () => {
  it("makes missing folders, one level at a time, and checks it can write there", () => {
    const deep = join(dir, "a", "b", "c");
    prepareOutputFolder(deep, "--out");
    expect(existsSync(deep)).toBe(true);
    expect(readdirSync(deep)).toEqual([]);
    prepareOutputFolder(deep, "--out");
  });

  it("refuses a file, a path through a file, and (quickly) /proc", () => {
    const file = join(dir, "file");
    writeFileSync(file, "x");
    expectConfigError(() => prepareOutputFolder(file, "--out"), /--out .*file: it is not a folder/);
    expectConfigError(
      () => prepareOutputFolder(join(file, "x", "y"), "--out"),
      /part of the path is a file/,
    );
    if (HAVE_PROC)
      expectConfigError(
        () => prepareOutputFolder("/proc/proxkit-x/y", "--report"),
        /cannot use --report \/proc\/proxkit-x\/y: cannot create \/proc\/proxkit-x/,
      );
  });
});
