/** How the link layer's main thread and its workers wait on each other's control words. */

/** A worker silent this long is taken as dead (its error event cannot arrive while we block). */
export const WORKER_TIMEOUT_MS = 60_000;

/** Blocks until `control[index]` satisfies `done`, flagging `flag` so the other side notifies. */
export function waitFor(
  control: Int32Array,
  index: number,
  flag: number,
  done: (v: number) => boolean,
) {
  const started = Date.now();
  for (;;) {
    const v = Atomics.load(control, index);
    if (done(v)) return v;
    Atomics.store(control, flag, 1);
    const again = Atomics.load(control, index);
    if (done(again)) return again;
    Atomics.wait(control, index, again, 200);
    if (Date.now() - started > WORKER_TIMEOUT_MS) {
      throw new Error("link layer: a venue shard stopped answering");
    }
  }
}
