/**
 * Where the build the tests run lives. test/global-setup.ts builds it once before any test file
 * runs, so a test only names these paths and never builds.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root (this file is test/support/dist.ts). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
/** The compiled tree (tsconfig.json's outDir). */
export const DIST = join(REPO_ROOT, "dist");
/** The built CLI, as `proxkit` runs it. */
export const CLI = join(DIST, "src/cli/main.js");
