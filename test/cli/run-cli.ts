/** Runs the built CLI (dist/) as a user would, capturing output and exit code. */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = join(root, "dist/src/cli/main.js");

let built = false;
/** Builds once per test process (tsc is incremental, so this is quick when nothing changed). */
export function ensureBuilt(): void {
  if (built && existsSync(CLI)) return;
  execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });
  built = true;
}

export function runCli(args: string[], options: { input?: string } = {}) {
  ensureBuilt();
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
  ensureBuilt();
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
