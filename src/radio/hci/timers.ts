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
