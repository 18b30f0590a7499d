/**
 * Runs benchmark workloads, each in a fresh child process (so that its memory figure is its
 * own), and prints one JSON line per workload:
 * {"workload", "ops_per_s", "unit", "rss_mb", "seconds", ...}.
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { ConfigError } from "../../src/core/errors.js";
import { WORKLOADS, type Workload } from "./workloads.js";

export interface BenchOptions {
  quick: boolean;
  only?: readonly string[];
}

export interface BenchResult {
  workload: string;
  ops_per_s: number;
  unit: string;
  rss_mb: number;
  seconds: number;
  baseline?: string;
  vs_baseline?: number;
  [extra: string]: unknown;
}

/**
 * The workloads selected by `only`, in the registry's order. A name selects that workload;
 * a name that is no workload's selects every workload it prefixes (`gaen`, `gaen.rpi`).
 */
export function selectWorkloads(only: readonly string[] | undefined): Workload[] {
  if (!only || only.length === 0) return [...WORKLOADS];
  const names = only
    .flatMap((o) => o.split(","))
    .map((o) => o.trim())
    .filter(Boolean);
  const matches = (w: Workload, name: string) =>
    WORKLOADS.some((x) => x.name === name) ? w.name === name : w.name.startsWith(name);
  for (const name of names) {
    if (!WORKLOADS.some((w) => matches(w, name))) {
      throw new ConfigError(
        `unknown workload "${name}": use one of ${WORKLOADS.map((w) => w.name).join(", ")}`,
        "E_WORKLOAD",
      );
    }
  }
  return WORKLOADS.filter((w) => names.some((name) => matches(w, name)));
}

/** Measures one workload in this process: warm-up, then 5 timed segments; the median counts. */
export function measure(workload: Workload, quick: boolean): BenchResult {
  if (workload.once) {
    const { ops, seconds, extra } = workload.once(quick);
    return {
      workload: workload.name,
      ops_per_s: Math.round(ops / seconds),
      unit: workload.unit,
      rss_mb: Math.round((process.memoryUsage().rss / 2 ** 20) * 10) / 10,
      seconds: Math.round(seconds * 100) / 100,
      ...extra,
    };
  }
  const step = workload.setup!(quick);
  const segmentS = quick ? 0.05 : 0.4;
  const warmUntil = performance.now() + (quick ? 100 : 500);
  while (performance.now() < warmUntil) step();
  const rates: number[] = [];
  let totalS = 0;
  for (let s = 0; s < 5; s++) {
    let ops = 0;
    const start = performance.now();
    let elapsedS = 0;
    do {
      ops += step();
      elapsedS = (performance.now() - start) / 1000;
    } while (elapsedS < segmentS);
    rates.push(ops / elapsedS);
    totalS += elapsedS;
  }
  rates.sort((a, b) => a - b);
  return {
    workload: workload.name,
    ops_per_s: Math.round(rates[2]),
    unit: workload.unit,
    rss_mb: Math.round((process.memoryUsage().rss / 2 ** 20) * 10) / 10,
    seconds: Math.round(totalS * 100) / 100,
  };
}

/** Runs the selected workloads, each in a child process, writing JSON lines as they finish. */
export function runBench(
  options: BenchOptions,
  cliPath: string,
  write: (line: string) => void,
): BenchResult[] {
  const results: BenchResult[] = [];
  const selected = selectWorkloads(options.only);
  // A baseline named by a selected workload runs first, so that its ratio can be given.
  const order = [...selected];
  for (const w of selected) {
    const base = w.baseline && WORKLOADS.find((b) => b.name === w.baseline);
    if (base && !order.includes(base)) order.unshift(base);
  }
  for (const workload of order) {
    const args = [
      "--expose-gc",
      cliPath,
      "bench",
      "--in-process",
      "--only",
      workload.name,
      ...(options.quick ? ["--quick"] : []),
    ];
    const child = spawnSync(process.execPath, args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    if (child.status !== 0)
      throw new Error(`workload ${workload.name} failed (exit ${child.status})`);
    const result = JSON.parse(child.stdout.trim().split("\n").at(-1)!) as BenchResult;
    const base = workload.baseline && results.find((r) => r.workload === workload.baseline);
    if (base) {
      result.baseline = base.workload;
      result.vs_baseline = Math.round((result.ops_per_s / base.ops_per_s) * 100) / 100;
    }
    result.cpu = cpus()[0]?.model ?? "unknown";
    result.node = process.version;
    results.push(result);
    write(`${JSON.stringify(result)}\n`);
  }
  return results;
}
