/**
 * A `proxkit checkpoint` daemon in a child process, as the durability test, the CLI tests and the
 * `checkpoint.kill` bench workload run it: the arguments of a simulated run, and a handle that
 * collects the ids of the windows the child reports as committed (`--echo-windows`).
 */
import { type ChildProcess, spawn } from "node:child_process";

/**
 * The arguments of `proxkit checkpoint` on the simulated `checkpoint-queue` scenario for `forArg`
 * into `db`, followed by `extra` (e.g. `--site`, `--checkpoint`, `--clock`).
 */
export function simCheckpointArgs(forArg: string, db: string, ...extra: string[]): string[] {
  return [
    "checkpoint",
    "--radio",
    "sim",
    "--scenario",
    "checkpoint-queue",
    "--for",
    forArg,
    "--db",
    db,
    ...extra,
  ];
}

export interface CheckpointChild {
  child: ChildProcess;
  /** Ids of the windows the child printed as committed so far (needs `--echo-windows`). */
  committed: string[];
  /** Everything the child wrote to stderr so far. */
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once the daemon says it is storing (its database is open); rejects if it exits first. */
  started: Promise<void>;
}

/** Runs `node cli ...args` and follows its stdout (one committed window a line) and stderr. */
export function spawnCheckpointDaemon(cli: string, args: string[]): CheckpointChild {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const committed: string[] = [];
  let buffer = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split("\n");
    buffer = lines.pop()!;
    for (const line of lines) if (line) committed.push(JSON.parse(line).id as string);
  });
  let err = "";
  let onStart: () => void = () => {};
  let onRefused: (error: Error) => void = () => {};
  const started = new Promise<void>((resolve, reject) => {
    onStart = resolve;
    onRefused = reject;
  });
  // A caller that never waits for the start must not see an unhandled rejection.
  started.catch(() => {});
  child.stderr!.on("data", (chunk: Buffer) => {
    err += chunk.toString();
    if (err.includes("storing in")) onStart();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      // Settles nothing if the daemon had started; otherwise a waiting test fails now, not at its timeout.
      onRefused(
        new Error(`the checkpoint daemon exited before storing (${code ?? signal}): ${err}`),
      );
      resolve({ code, signal });
    }),
  );
  return { child, committed, stderr: () => err, exited, started };
}
