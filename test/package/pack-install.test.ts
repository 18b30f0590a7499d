/**
 * The package as a user gets it: `npm pack` of a fresh build, installed from the tarball into an
 * empty project, then used the three ways the README promises: the `proxkit` command (`npx
 * proxkit --help`, `npx proxkit ids …`), `import { … } from "proxkit"` (and `proxkit/sim`) in
 * an ES module, and the same from TypeScript with the types resolved (checked with
 * skipLibCheck off, under both node16-style and bundler resolution).
 *
 * The install leaves out the optional BLE libraries (`--omit=optional`: what must work without
 * them) and skips install scripts (`--ignore-scripts`): better-sqlite3 has no prebuilt binary
 * reachable here and compiles from source for minutes, and nothing below opens a database.
 * Dependencies come from the npm registry or its local cache (`--prefer-offline`).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { REPO_ROOT } from "../support/dist.js";

const ROOT = REPO_ROOT;
const TSC = join(ROOT, "node_modules/.bin/tsc");

/** The environment without the npm_* variables of an outer `npm run`, which would steer npm. */
const ENV = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_")),
);

function run(command: string, args: string[], cwd: string, timeout = 120_000) {
  const r = spawnSync(command, args, { cwd, env: ENV, encoding: "utf8", timeout });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", error: r.error };
}

let tmp: string;
let tarball: string;
let app: string;

describe("npm pack, installed in an empty project", () => {
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), "proxkit-pack-"));
    const packed = run(
      "npm",
      ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp],
      ROOT,
    );
    expect(packed.code, packed.stderr).toBe(0);
    tarball = join(tmp, JSON.parse(packed.stdout)[0].filename);
    app = join(tmp, "app");
    mkdirSync(app);
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({ name: "app", version: "1.0.0", private: true, type: "module" }),
    );
    // @types/node: what a TypeScript user on Node has anyway (proxkit's types use node:events).
    const installed = run(
      "npm",
      [
        "install",
        tarball,
        "@types/node@^20.19",
        "--omit=optional",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        "--loglevel=error",
      ],
      app,
      600_000,
    );
    expect(installed.code, `${installed.stderr}${installed.error ?? ""}`).toBe(0);
  }, 900_000);

  // The installed project is over 100 MB of files: removing them takes a while on a busy disk.
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }, 300_000);

  test("the tarball holds the build, the README and the Pi's systemd unit, and nothing else", () => {
    const entries = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" })
      .split("\n")
      .filter((e) => e !== "" && !e.endsWith("/"))
      .map((e) => e.replace(/^package\//, ""));
    for (const needed of [
      "package.json",
      "README.md",
      "dist/src/index.js",
      "dist/src/index.d.ts",
      "dist/src/cli/main.js",
      "dist/sim/index.js",
      "dist/sim/index.d.ts",
      "dist/sim/world/scenarios/office.json",
      "dist/src/exposure/presets/proxkit.json",
      "scripts/proxkit-checkpoint.service",
    ])
      expect(entries).toContain(needed);
    const unwanted = entries.filter(
      (e) =>
        /^(test|scratch|examples|docs|node_modules|src|sim)\//.test(e) ||
        /^dist\/(test|examples|scratch)\//.test(e) ||
        /\.map$|\.tsbuildinfo$/.test(e) ||
        (/\.ts$/.test(e) && !/\.d\.ts$/.test(e)) ||
        /\.(csv|parquet|btsnoop|log|sqlite|db|zip|bin|jsonl|gz|tgz)$/i.test(e),
    );
    expect(unwanted).toEqual([]);
    // No stale output of a source that is gone (dist/ is built incrementally, never cleaned).
    const stale = entries.filter(
      (e) =>
        e.startsWith("dist/") &&
        e.endsWith(".js") &&
        !existsSync(join(ROOT, `${e.slice(5, -3)}.ts`)),
    );
    expect(stale).toEqual([]);
  });

  test("the optional BLE libraries stay out with --omit=optional", () => {
    expect(existsSync(join(app, "node_modules/proxkit/package.json"))).toBe(true);
    expect(existsSync(join(app, "node_modules/@stoprocent"))).toBe(false);
  });

  test("npx proxkit --help", () => {
    const r = run("npx", ["--no-install", "proxkit", "--help"], app);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^proxkit <command>/);
    for (const command of ["ids", "adv", "keys", "match", "simulate", "scan", "checkpoint"])
      expect(r.stdout).toContain(`proxkit ${command}`);
  });

  test("npx proxkit ids derives the GAEN RPIs of a key", () => {
    const r = run(
      "npx",
      [
        "--no-install",
        "proxkit",
        "ids",
        "-p",
        "gaen",
        "-k",
        "75c734c6dd1a782de7a965da5eb93125",
        "--start",
        "2642976",
        "-n",
        "2",
      ],
      app,
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { interval: 2642976, rpi: "8be6cd371c5c891604bfbe49df845096", aem: "72e33874" },
      { interval: 2642977, rpi: "3c9a1de5dd6b02afa7fded7b570b3e56", aem: "c27211b1" },
    ]);
  });

  test('import { … } from "proxkit" in an ES module', () => {
    writeFileSync(
      join(app, "use.mjs"),
      `import { deriveRpi, deriveRpik, estimatorFor, fromHex, MovingMedian, presetFor, toHex } from "proxkit";
import { BUILT_IN_SCENARIOS, precisionRecallF1 } from "proxkit/sim";
import pkg from "proxkit/package.json" with { type: "json" };

const rpi = toHex(deriveRpi(deriveRpik(fromHex("75c734c6dd1a782de7a965da5eb93125")), 2642976));
const median = new MovingMedian();
for (const [t, rssi] of [[0, -60], [1000, -70], [2000, -65]]) median.push({ atMs: t, value: rssi });
const estimator = estimatorFor("proxkit");
console.log(JSON.stringify({
  version: pkg.version,
  rpi,
  median: median.value(),
  estimator: estimator.name,
  preset: presetFor("cwa-v2").name,
  office: BUILT_IN_SCENARIOS.includes("office"),
  f1: precisionRecallF1(1, 1, 0).f1,
}));
`,
    );
    const r = run(process.execPath, ["use.mjs"], app);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      rpi: "8be6cd371c5c891604bfbe49df845096",
      median: -65,
      estimator: "proxkit",
      preset: "cwa-v2",
      office: true,
      f1: 2 / 3,
    });
  });

  test("the types resolve from TypeScript (node16 and bundler resolution)", {
    timeout: 300_000,
  }, () => {
    writeFileSync(
      join(app, "use.ts"),
      `import {
  type DistanceEstimator,
  estimatorFor,
  type MatchResult,
  matchExposures,
  MovingMedian,
  presetFor,
  type RiskPreset,
  type Sighting,
  type SignalFilter,
} from "proxkit";
import { type SimulatedRun, simulateRun } from "proxkit/sim";

const preset: RiskPreset = presetFor("proxkit");
const filter: SignalFilter = new MovingMedian({ windowMs: 60_000 });
const estimator: DistanceEstimator = estimatorFor("proxkit");
const sightings: Sighting[] = [];
const result: MatchResult = matchExposures({ gaen: [], dayKeys: [] }, sightings, { preset });
export const run: (seed: number) => SimulatedRun = (seed) => simulateRun({} as never, { seed });
export const used = [filter, estimator, result.notified];
// The names are real types, not \`any\`: a wrong value must not type-check.
// @ts-expect-error a number is not a preset
export const wrong: RiskPreset = 42;
`,
    );
    const base = {
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      target: "ES2022",
      types: ["node"],
    };
    const configs = {
      "tsconfig.node16.json": { ...base, module: "node16", moduleResolution: "node16" },
      "tsconfig.bundler.json": { ...base, module: "esnext", moduleResolution: "bundler" },
    };
    for (const [name, compilerOptions] of Object.entries(configs)) {
      writeFileSync(join(app, name), JSON.stringify({ compilerOptions, files: ["use.ts"] }));
      const r = run(TSC, ["-p", name], app);
      expect(`${r.stdout}${r.stderr}`, name).toBe("");
      expect(r.code, name).toBe(0);
    }
    expect(readdirSync(app)).not.toContain("use.js");
  });
});
