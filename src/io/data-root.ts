/**
 * Where the shared measurement data lives: `../shared/data` beside the repository (a checkout),
 * else `../shared/data` from the working folder. Used by the CLI's defaults, the campaign
 * evaluations and the simulator's recorded-crowd scenarios.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: the first folder above this module that holds a package.json. */
export function repoRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The default data root (`--data`): `<repo>/../shared/data` when it is there. */
export function defaultDataRoot(): string {
  const root = repoRoot();
  const beside = root === undefined ? undefined : resolve(root, "..", "shared", "data");
  return beside !== undefined && existsSync(beside) ? beside : join("..", "shared", "data");
}
