/**
 * Time for the HCI back-end: the system clock and timers in production, a virtual scheduler in
 * tests (so that the contract suite can run hours of rotations in a second).
 */
import type { Clock } from "../../core/clock.js";

export interface Timers extends Clock {
  setTimeout(task: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  nowMs: () => Date.now(),
  setTimeout: (task, delayMs) => setTimeout(task, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The timers a part has pending, so that stopping it can cancel every one of them. */
export class PendingTimers {
  private readonly handles = new Set<unknown>();

  constructor(private readonly timers: Timers) {}

  /** Runs `task` after `delayMs` (at once if that is past), unless cleared first. */
  after(delayMs: number, task: () => void): void {
    const handle = this.timers.setTimeout(
      () => {
        this.handles.delete(handle);
        task();
      },
      Math.max(0, delayMs),
    );
    this.handles.add(handle);
  }

  /** Cancels every pending timer. */
  clear(): void {
    for (const handle of this.handles) this.timers.clearTimeout(handle);
    this.handles.clear();
  }
}

/** Waits between restart attempts: `firstMs`, doubling up to `maxMs`, until reset. */
export class DoublingBackoff {
  private delayMs: number;

  constructor(
    private readonly firstMs: number,
    private readonly maxMs: number,
  ) {
    this.delayMs = firstMs;
  }

  /** The wait before the next attempt (the one after waits twice as long, up to `maxMs`). */
  next(): number {
    const delayMs = this.delayMs;
    this.delayMs = Math.min(delayMs * 2, this.maxMs);
    return delayMs;
  }

  /** After a success: the next wait is `firstMs` again. */
  reset(): void {
    this.delayMs = this.firstMs;
  }
}
