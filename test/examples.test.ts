/**
 * The two examples in examples/ run as a user runs them: built (the build compiles examples/),
 * then `node dist/examples/<name>.js` as a child process, their "proxkit" imports resolved
 * through the package's own `exports`. Their output is checked, not just their exit status.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { DIST, REPO_ROOT } from "./support/dist.js";

const ROOT = REPO_ROOT;

function runExample(name: string, args: string[] = []) {
  const result = spawnSync(process.execPath, [join(DIST, "examples", `${name}.js`), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
  });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  return result.stdout;
}

describe("examples", () => {
  test("custom-detector: a rule of our own scored on a simulated office", () => {
    const out = runExample("custom-detector");
    expect(out).toMatch(/^simulated \d+ phones for 60 min: \d+ sightings$/m);
    const close = Number(/close contacts in the truth: (\d+) pairs/.exec(out)?.[1]);
    expect(close).toBeGreaterThan(0);
    for (const name of ["custom: <= 50 dB for >= 10 min", "shipped: proxkit detector"]) {
      const line = out.split("\n").find((l) => l.startsWith(name));
      const m =
        /precision ([\d.]+) +recall ([\d.]+) +F1 ([\d.]+) +\(tp (\d+), fp (\d+), fn (\d+)\)/.exec(
          line ?? "",
        );
      expect(m, `${name} in\n${out}`).not.toBeNull();
      const [precision, recall, f1, tp, fp, fn] = m!.slice(1).map(Number);
      expect(tp + fn).toBe(close);
      expect(precision).toBeCloseTo(tp / (tp + fp), 2);
      expect(recall).toBeCloseTo(tp / close, 2);
      // Both find a real share of the close pairs on this run (seed 7).
      expect(f1).toBeGreaterThan(0.2);
    }
  }, 120_000);

  test("custom-detector takes its threshold and minutes as arguments", () => {
    expect(runExample("custom-detector", ["40", "15"])).toContain("custom: <= 40 dB for >= 15 min");
  }, 120_000);

  test("match-capture: a capture decoded and matched against a signed key file", () => {
    const out = runExample("match-capture");
    expect(out).toContain("capture: 450 records, 450 advertising reports, 450 sightings");
    expect(out).toContain("key file: 2 published keys (region XX), signature valid");
    // Alice's 25 minutes, one scan a minute; Bob never published, Carol was never heard.
    const windows = out.split("\n").filter((l) => l.startsWith("exposure window:"));
    expect(windows).toHaveLength(1);
    expect(windows[0]).toMatch(
      /from 2025-11-20T12:00:00.000Z, 25 scans, typical attenuation 4\d\.\d dB/,
    );
    expect(out).toContain("matched sightings: 375 of 450; notified (cwa-v2): true");
  }, 120_000);
});
