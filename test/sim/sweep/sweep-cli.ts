/**
 * The built CLI for the sweep tests, which start it as separate processes (sweeps, workers).
 * test/global-setup.ts builds dist/ once before any test file runs.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readTable } from "../../../sim/io/table-reader.js";
import { CLI } from "../../support/dist.js";

export const SWEEP_CLI = CLI;

export function sweepCli(args: string[], options: { cwd?: string; timeoutMs?: number } = {}) {
  const result = spawnSync(process.execPath, [SWEEP_CLI, ...args], {
    encoding: "utf8",
    cwd: options.cwd,
    timeout: options.timeoutMs ?? 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A long-running CLI process in a process group of its own, so it can be ended with its children. */
export interface CliProcess {
  readonly child: ChildProcess;
  stderr(): string;
  stdout(): string;
  /** Resolves when stderr has matched `pattern` (with the match), rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  readonly exited: Promise<number | null>;
  /** Signals the whole group (the CLI and its run processes); no error if it is gone. */
  killGroup(signal: NodeJS.Signals): void;
}

export function startCli(args: string[]): CliProcess {
  const child = spawn(process.execPath, [SWEEP_CLI, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  let err = "";
  const listeners = new Set<() => void>();
  child.stdout!.on("data", (d) => {
    out += d;
  });
  child.stderr!.on("data", (d) => {
    err += d;
    for (const l of listeners) l();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = err.match(pattern);
          if (match) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no ${pattern} on stderr within ${timeoutMs} ms; stderr:\n${err}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    killGroup(signal) {
      try {
        process.kill(-child.pid!, signal);
      } catch {}
    },
  };
}

/** Every row of a results table, as the reader gives them. */
export async function tableRows(path: string): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for await (const row of readTable(path)) rows.push(row);
  return rows;
}
