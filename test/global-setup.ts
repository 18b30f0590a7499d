/**
 * Vitest's global setup: builds dist/ once, before any test file runs, from the sources as they
 * are now. Worker threads (`workerScript` in src/core/worker-thread.ts) and the CLI's child
 * processes run the compiled JavaScript under dist/, so without this build they would test
 * whatever an earlier build left there; and test files building it themselves would run several
 * `tsc` into the same dist/ at once. This runs for `npm test` and for `npx vitest run <file>` alike.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { DIST, REPO_ROOT } from "./support/dist.js";

export function setup(): void {
  const started = Date.now();
  const tsc = spawnSync(
    process.execPath,
    [`${REPO_ROOT}/node_modules/typescript/bin/tsc`, "-p", `${REPO_ROOT}/tsconfig.json`],
    { cwd: REPO_ROOT, encoding: "utf8", timeout: 600_000 },
  );
  if (tsc.error) throw new Error(`could not run tsc: ${tsc.error.message}`);
  // Type errors do not stop tsc from emitting (`npm run lint` is where they fail), so the
  // build's JavaScript is current either way: say so, and go on unless nothing was emitted.
  if (tsc.status !== 0)
    console.warn(`tsc -p tsconfig.json reported errors; testing what it emitted:\n${tsc.stdout}`);
  const cli = `${DIST}/src/cli/main.js`;
  if (!existsSync(cli))
    throw new Error(`the build did not produce ${cli}:\n${tsc.stdout}${tsc.stderr}`);
  console.log(`built dist/ for the tests in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
