/**
 * A discrete-event scheduler on a virtual clock: callbacks run in time order (ties in the
 * order they were scheduled), as fast as the machine allows. A binary heap over parallel
 * arrays; deterministic.
 */
import type { Clock } from "../../core/clock.js";

export class VirtualScheduler implements Clock {
  private atMs: number;
  private times: number[] = [];
  private seqs: number[] = [];
  private tasks: (() => void)[] = [];
  private seq = 0;

  constructor(startMs = 0) {
    this.atMs = startMs;
  }

  nowMs(): number {
    return this.atMs;
  }

  /** Events waiting. */
  get pending(): number {
    return this.times.length;
  }

  /** Runs `task` at `atMs` (not before now). */
  at(atMs: number, task: () => void): void {
    const t = Math.max(atMs, this.atMs);
    this.times.push(t);
    this.seqs.push(this.seq++);
    this.tasks.push(task);
    this.up(this.times.length - 1);
  }

  /** Runs every event up to and including `untilMs`, then sets the clock there. */
  runUntil(untilMs: number): void {
    while (this.times.length > 0 && this.times[0] <= untilMs) {
      const [atMs, task] = this.pop();
      this.atMs = atMs;
      task();
    }
    if (untilMs > this.atMs) this.atMs = untilMs;
  }

  runFor(durationMs: number): void {
    this.runUntil(this.atMs + durationMs);
  }

  private less(i: number, j: number): boolean {
    return (
      this.times[i] < this.times[j] ||
      (this.times[i] === this.times[j] && this.seqs[i] < this.seqs[j])
    );
  }

  private swap(i: number, j: number): void {
    [this.times[i], this.times[j]] = [this.times[j], this.times[i]];
    [this.seqs[i], this.seqs[j]] = [this.seqs[j], this.seqs[i]];
    [this.tasks[i], this.tasks[j]] = [this.tasks[j], this.tasks[i]];
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private pop(): [number, () => void] {
    const top: [number, () => void] = [this.times[0], this.tasks[0]];
    const last = this.times.length - 1;
    this.swap(0, last);
    this.times.pop();
    this.seqs.pop();
    this.tasks.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.times.length && this.less(l, m)) m = l;
      if (r < this.times.length && this.less(r, m)) m = r;
      if (m === i) return top;
      this.swap(i, m);
      i = m;
    }
  }
}
