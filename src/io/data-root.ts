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

/**
 * Where proxkit keeps what it can recompute (samples of the campaigns for the simulation
 * report): `<repo>/node_modules/.cache/proxkit`, the usual place for a package's caches, or
 * `undefined` outside a repository with `node_modules`.
 */
export function defaultCacheDir(): string | undefined {
  const root = repoRoot();
  if (root === undefined || !existsSync(join(root, "node_modules"))) return undefined;
  return join(root, "node_modules", ".cache", "proxkit");
}
