/**
 * What a suite needs from outside the repository, and what happens when it is missing: the suite
 * is skipped, with the reason in its name, or, where the environment says it must run, it fails.
 *
 * - `needData(...)`: the measurement campaigns in `../shared/data` (src/io/data-root.ts). With
 *   `PROXKIT_REQUIRE_DATA=1` (set by `.ci/run`) a missing folder fails the suite instead.
 * - `needTool(...)`: a program CI installs (chromium, mosquitto, openssl, ...). With
 *   `PROXKIT_REQUIRE_TOOLS=1` (set by `.ci/run`) a missing program fails the suite instead.
 * - `needs(met, reason)`: anything else (root, a Bluetooth-less kernel, a C compiler): skipped,
 *   never required.
 *
 * `describeWith(need)("name", fn)` and `itWith(need)("name", fn, timeout)` replace
 * `describe.skipIf(!present)` and a test's early `return`, so no test passes by not running.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, it, type TestFunction } from "vitest";
import { CAMPAIGNS } from "../../src/campaigns/campaigns.js";
import { defaultDataRoot } from "../../src/io/data-root.js";

export interface Need {
  /** Whether it is there. */
  readonly met: boolean;
  /** Why a suite would not run, e.g. "../shared/data/mit-matrix is absent". */
  readonly reason: string;
  /** The environment variable that turns a skip into a failure, if any. */
  readonly requiredBy?: string;
}

/** `../shared/data`, as the CLI finds it by default (absolute). */
export const SHARED_DATA = resolve(defaultDataRoot());

/** A path under `../shared/data`. */
export function sharedData(...parts: string[]): string {
  return join(SHARED_DATA, ...parts);
}

function required(variable: string): string | undefined {
  return process.env[variable] === "1" ? variable : undefined;
}

/** Every path (relative to `../shared/data`) is there. */
export function needData(...paths: string[]): Need {
  const missing = paths.find((p) => !existsSync(sharedData(p)));
  return {
    met: missing === undefined,
    reason: `${join(SHARED_DATA, missing ?? "")} is absent`,
    requiredBy: required("PROXKIT_REQUIRE_DATA"),
  };
}

/** The folders of the five measurement campaigns `proxkit evaluate` reads (`CAMPAIGNS`). */
export function needCampaigns(...more: string[]): Need {
  return needData(...CAMPAIGNS.map((c) => c.folder), ...more);
}

/** A program, found at `path` (undefined: not found); `install` says where it comes from. */
export function needTool(name: string, path: string | undefined, install: string): Need {
  return {
    met: path !== undefined && existsSync(path),
    reason: `${name} is not installed (${install})`,
    requiredBy: required("PROXKIT_REQUIRE_TOOLS"),
  };
}

/** Any other condition: a skip when it does not hold, never a failure. */
export function needs(met: boolean, reason: string): Need {
  return { met, reason };
}

/** All of them (the first missing one's reason). */
export function allOf(...all: Need[]): Need {
  return (
    all.find((n) => !n.met && n.requiredBy !== undefined) ?? all.find((n) => !n.met) ?? all[0]!
  );
}

const warned = new Set<string>();

/** What to do with a suite or test that has `need`: run it, skip it, or fail in its place. */
function decide(need: Need): "run" | "skip" | "fail" {
  if (need.met) return "run";
  if (need.requiredBy !== undefined) return "fail";
  if (!warned.has(need.reason)) {
    warned.add(need.reason);
    console.warn(`skipping: ${need.reason}`);
  }
  return "skip";
}

function failure(need: Need): () => never {
  return () => {
    throw new Error(`${need.reason}, and ${need.requiredBy}=1 says this suite must run`);
  };
}

/** `describe` when `need` is met; else skipped (named with the reason) or, if required, failing. */
export function describeWith(need: Need): (name: string, fn: () => void) => void {
  return (name, fn) => {
    const what = decide(need);
    if (what === "run") describe(name, fn);
    else if (what === "skip") describe.skip(`${name} [skipped: ${need.reason}]`, fn);
    else describe(name, () => it(`needs: ${need.reason}`, failure(need)));
  };
}

/** `it` when `need` is met; else skipped (named with the reason) or, if required, failing. */
export function itWith(need: Need): (name: string, fn: TestFunction, timeout?: number) => void {
  return (name, fn, timeout) => {
    const what = decide(need);
    if (what === "run") it(name, fn, timeout);
    else if (what === "skip") it.skip(`${name} [skipped: ${need.reason}]`, fn, timeout);
    else it(`${name} (needs: ${need.reason})`, failure(need));
  };
}
