/**
 * Builds dist/ for the tests that run the CLI as a child process. Type errors elsewhere in the
 * tree do not stop tsc from emitting, so its exit status is not what decides: the CLI file is.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = join(ROOT, "dist/src/cli/main.js");

let built = false;
export function buildCli(): void {
  if (built) return;
  spawnSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: ROOT, stdio: "ignore" });
  if (!existsSync(CLI)) throw new Error(`building the CLI did not produce ${CLI}`);
  built = true;
}
