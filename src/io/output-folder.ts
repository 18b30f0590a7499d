/**
 * Output folders (`simulate --out`, `evaluate --report`): made, and proven writable, before any
 * work, so a bad path costs one line instead of a finished run. Folders are made one level at a
 * time: Node's `mkdirSync(path, { recursive: true })` never returns for a path under /proc
 * (mkdir there fails with ENOENT under a folder that exists, and Node retries for ever).
 */
import { closeSync, mkdirSync, openSync, type Stats, statSync, unlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ConfigError } from "../core/errors.js";

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EROFS":
      return "read-only file system";
    case "ENOSPC":
      return "no space left";
    case "ENOENT":
      return "its parent folder does not take new folders";
    case "ENOTDIR":
      return "part of the path is a file";
    default:
      return code ?? (error as Error).message;
  }
}

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * Makes `dir` (and any missing parents) and checks a file can be created in it; every failure is
 * one `ConfigError` that names `what` ("--out") and the path.
 */
export function prepareOutputFolder(dir: string, what: string, code = "E_OUT"): void {
  const fail = (detail: string): never => {
    throw new ConfigError(`cannot use ${what} ${dir}: ${detail}`, code);
  };
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    let stats: Stats | undefined;
    try {
      stats = statOf(at);
    } catch (error) {
      fail(reason(error));
    }
    if (stats !== undefined) {
      if (!stats.isDirectory())
        fail(at === resolve(dir) ? "it is not a folder" : `${at} is not a folder`);
      break;
    }
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const folder of missing) {
    try {
      mkdirSync(folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST" && statOf(folder)?.isDirectory())
        continue; // made meanwhile
      fail(`cannot create ${folder}: ${reason(error)}`);
    }
  }
  const probe = join(resolve(dir), `.proxkit-write-check-${process.pid}-${Date.now()}`);
  try {
    closeSync(openSync(probe, "wx"));
    unlinkSync(probe);
  } catch (error) {
    fail(
      `cannot write in it: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "it does not take new files" : reason(error)}`,
    );
  }
}
