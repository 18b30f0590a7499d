/** Runs the built CLI (dist/) as a user would, capturing output and exit code. */
import { execFileSync, spawnSync } from "node:child_process";
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
