/**
 * Runs of a sweep in child processes, one run at a time per child. A run is seconds to hours of
 * synchronous CPU work: in a child it leaves the parent's event loop free for the progress bar,
 * signals and, in a queue worker, BullMQ's lock renewals. Processes rather than worker threads:
 * a run that runs out of memory takes only its child down, and its job fails (and is retried)
 * instead of the whole worker.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { SweepEntry } from "./grid.js";
import type { SweepResultRow } from "./result-rows.js";
import type { RunEntryOptions } from "./run-entry.js";

/** What the parent sends a child: one run. */
export interface RunRequest {
  readonly entry: SweepEntry;
  readonly dir: string;
  readonly options: RunEntryOptions;
}

/** What a child answers. */
export type RunReply = { readonly rows: SweepResultRow[] } | { readonly error: string };

/** The child's script (the compiled one when running from TypeScript sources, as in tests). */
function childScript(): string {
  const here = new URL(import.meta.url);
  const url = here.pathname.endsWith(".ts")
    ? new URL("../../dist/sim/sweep/run-child.js", here)
    : new URL("./run-child.js", here);
  return fileURLToPath(url);
}

interface Slot {
  child: ChildProcess | undefined;
  busy: boolean;
}

export class RunPool {
  private readonly slots: Slot[];
  private readonly waiting: (() => void)[] = [];
  private closed = false;

  constructor(readonly size: number) {
    this.slots = Array.from({ length: size }, () => ({ child: undefined, busy: false }));
  }

  /** Runs one entry in a free child (waiting for one); rejects if the run fails or its child dies. */
  async run(
    entry: SweepEntry,
    dir: string,
    options: RunEntryOptions = {},
  ): Promise<SweepResultRow[]> {
    const slot = await this.claimSlot();
    try {
      return await this.runIn(slot, { entry, dir, options });
    } finally {
      slot.busy = false;
      this.waiting.shift()?.();
    }
  }

  /** A free slot, marked busy in the same turn it is found (callers run side by side). */
  private async claimSlot(): Promise<Slot> {
    for (;;) {
      if (this.closed) throw new Error("the run pool is closed");
      const slot = this.slots.find((s) => !s.busy);
      if (slot) {
        slot.busy = true;
        return slot;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private runIn(slot: Slot, request: RunRequest): Promise<SweepResultRow[]> {
    if (slot.child === undefined || slot.child.exitCode !== null || !slot.child.connected) {
      // The child's stdout would mix with the parent's (tables, JSON): it has nothing to say there.
      slot.child = fork(childScript(), [], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    }
    const child = slot.child;
    return new Promise((resolve, reject) => {
      const onMessage = (reply: RunReply) => {
        done();
        if ("rows" in reply && reply.rows.every((row) => row.runId === request.entry.id))
          resolve(reply.rows);
        else if ("rows" in reply)
          reject(
            new Error(`run ${request.entry.id}: its process answered with another run's rows`),
          );
        else reject(new Error(`run ${request.entry.id} failed: ${reply.error}`));
      };
      const onExit = (code: number | null, signal: string | null) => {
        done();
        slot.child = undefined;
        reject(
          new Error(
            `run ${request.entry.id}: its process ended (${signal ?? `exit code ${code}`}) before finishing`,
          ),
        );
      };
      const done = () => {
        child.off("message", onMessage);
        child.off("exit", onExit);
      };
      child.on("message", onMessage);
      child.on("exit", onExit);
      child.send(request);
    });
  }

  /**
   * Ends every child: idle ones leave on their own (their exit handlers run), busy ones are
   * killed (the run in progress is abandoned: its partial folder stays behind).
   */
  close(): void {
    this.closed = true;
    for (const slot of this.slots) {
      const child = slot.child;
      slot.child = undefined;
      if (child === undefined || child.exitCode !== null) continue;
      if (!slot.busy && child.connected) child.disconnect();
      else child.kill("SIGKILL");
    }
    for (const wake of this.waiting.splice(0)) wake();
  }
}
