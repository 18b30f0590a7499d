/**
 * Keeps noble and bleno in their place inside a long-running program:
 * - their "adapter unsupported/unauthorized" banners (console.log) are silenced, since the
 *   back-end reports one sentence of its own (`adapter-diagnosis.ts`);
 * - their SIGINT handlers (which call process.exit when they are the last listener) and exit
 *   handlers are removed: the program stops the radio itself;
 * - a throw from their once-a-second adapter poll (bleno 0.12 keeps polling after stop(), and
 *   on a machine without Bluetooth sockets the poll throws "Address family not supported")
 *   becomes an `error` report instead of an uncaught exception, and polling ends at stop.
 * The hooks are instance properties over the libraries' internals (`_hci`, `_sigIntHandler`),
 * each applied only when present, so another version degrades to the unguarded behaviour.
 */
import type { Timers } from "./timers.js";

// biome-ignore lint/suspicious/noExplicitAny: the libraries' internals are untyped.
type Internals = any;

export class LibraryGuard {
  private stopped = false;

  constructor(private readonly onError: (error: Error) => void) {}

  /** Installs the hooks on `bindings` before the library starts them. */
  guard(bindings: Internals): void {
    if (!bindings || typeof bindings !== "object") return;
    if (typeof bindings.onStateChange === "function") {
      const onStateChange = bindings.onStateChange;
      bindings.onStateChange = function (this: unknown, ...args: unknown[]) {
        const log = console.log;
        console.log = () => {};
        try {
          return onStateChange.apply(this, args);
        } finally {
          console.log = log;
        }
      };
    }
    this.containPolling(bindings._hci);
    for (const method of ["start", "init"] as const) {
      const original = bindings[method];
      if (typeof original !== "function") continue;
      const guard = this;
      bindings[method] = function (this: Internals, ...args: unknown[]) {
        try {
          return original.apply(this, args);
        } catch (error) {
          guard.report(error);
        } finally {
          for (const [event, handler] of [
            ["SIGINT", this._sigIntHandler],
            ["exit", this._exitHandler],
          ] as const) {
            if (typeof handler === "function") process.removeListener(event, handler);
          }
          guard.containPolling(this._hci);
        }
      };
    }
  }

  /** Ends polling and runs `stop` (the library's), reporting nothing if it throws. */
  stop(stop: () => void): void {
    this.stopped = true;
    try {
      stop();
    } catch {
      // The adapter is already gone; there is nothing left to release.
    }
  }

  private containPolling(hci: Internals): void {
    if (!hci || typeof hci.pollIsDevUp !== "function" || hci.pollIsDevUp.guarded) return;
    const poll = hci.pollIsDevUp;
    const guard = this;
    const guarded = function (this: unknown, ...args: unknown[]) {
      if (guard.stopped) return;
      try {
        return poll.apply(this, args);
      } catch (error) {
        guard.report(error);
      }
    };
    guarded.guarded = true;
    hci.pollIsDevUp = guarded;
  }

  private report(error: unknown): void {
    if (this.stopped) return;
    this.onError(error instanceof Error ? error : new Error(String(error)));
  }
}

/** The subset of noble and bleno this back-end uses for adapter state. */
export interface StatefulLibrary {
  readonly state: string;
  on(event: "stateChange", listener: (state: string) => void): unknown;
  removeListener(event: "stateChange", listener: (state: string) => void): unknown;
}

/**
 * Waits until `library` is "poweredOn" and resolves with the last state seen: at once for
 * "unauthorized", "unsupported" `settleMs` after the first "unsupported" (noble retries through "poweredOff"), and
 * at `timeoutMs` otherwise. `failed` resolves the wait early (an error from the library).
 */
export function waitForPoweredOn(
  library: StatefulLibrary,
  timers: Timers,
  timeoutMs: number,
  settleMs = 500,
): { done: Promise<string>; fail(): void } {
  let finish: (state: string) => void = () => {};
  const done = new Promise<string>((resolve) => {
    let last = "unknown";
    let settle: unknown;
    const timeout = timers.setTimeout(() => end(last), timeoutMs);
    const end = (state: string) => {
      timers.clearTimeout(timeout);
      if (settle !== undefined) timers.clearTimeout(settle);
      library.removeListener("stateChange", listener);
      resolve(state);
    };
    finish = () => end(last === "unknown" || last === "poweredOn" ? "unsupported" : last);
    const listener = (state: string) => {
      last = state;
      if (state === "poweredOn" || state === "unauthorized") end(state);
      else if (state === "unsupported" && settle === undefined)
        settle = timers.setTimeout(
          () => end(last === "poweredOn" ? last : "unsupported"),
          settleMs,
        );
    };
    library.on("stateChange", listener);
    try {
      if (library.state === "poweredOn") end("poweredOn");
    } catch {
      // Reading noble's state starts its bindings; a throw there is reported by the guard.
    }
  });
  return { done, fail: () => finish("unsupported") };
}
