/** The source of time. Production uses the system clock; tests and simulations a virtual one. */
export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

/** A clock that moves only when told to: for tests and simulations. */
export class ManualClock implements Clock {
  private atMs: number;

  constructor(startMs = 0) {
    this.atMs = startMs;
  }

  nowMs(): number {
    return this.atMs;
  }

  set(atMs: number): void {
    this.atMs = atMs;
  }

  advance(durationMs: number): void {
    this.atMs += durationMs;
  }
}
