/**
 * Runs the built CLI (dist/) as a user would, capturing output and exit code. The build is
 * test/global-setup.ts's, made once before any test file runs.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { CLI } from "../support/dist.js";

export { CLI };

export function runCli(args: string[], options: { input?: string } = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    input: options.input,
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The CLI as a long-running child (scan, advertise): its output so far, and when it ends. */
export function spawnCli(args: string[]): {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once the child has written a whole first line to stdout. */
  firstLine: Promise<void>;
  /** The exit code (null if a signal ended it). */
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  let onLine: () => void = () => {};
  const firstLine = new Promise<void>((resolve) => {
    onLine = resolve;
  });
  child.stdout!.on("data", (d) => {
    out += d;
    if (out.includes("\n")) onLine();
  });
  child.stderr!.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { child, stdout: () => out, stderr: () => err, firstLine, exited };
}
