/**
 * What the modules that start their own worker threads share: where a worker's script is, and
 * how the starting thread blocks on a counter the worker moves.
 */

/**
 * The script a module's worker threads run: the module itself once compiled, or its compiled copy
 * under `dist/` when the module runs from TypeScript sources (the tests), `sourcePath` naming it
 * from the repository's root without extension (e.g. "sim/io/parquet-thread").
 */
export function workerScript(moduleUrl: string, sourcePath: string): URL {
  const here = new URL(moduleUrl);
  if (!here.pathname.endsWith(".ts")) return here;
  const depth = sourcePath.split("/").length - 1;
  return new URL(`${"../".repeat(depth)}dist/${sourcePath}.js`, here);
}

/**
 * Blocks this thread until `done(control[index])` holds, waking when the worker changes the value
 * (`Atomics.notify`) and at least once a second to run `check`, which throws when the worker has
 * reported a failure. With `stall`, throws `stall.error()` once the value has not moved for
 * `stall.ms`.
 */
export function waitOnCounter(
  control: Int32Array,
  index: number,
  done: (value: number) => boolean,
  check: () => void,
  stall?: { readonly ms: number; error(): Error },
): void {
  let seen = Atomics.load(control, index);
  let movedAt = Date.now();
  while (!done(seen)) {
    Atomics.wait(control, index, seen, 1000);
    check();
    const now = Atomics.load(control, index);
    if (now !== seen) {
      seen = now;
      movedAt = Date.now();
    } else if (stall !== undefined && Date.now() - movedAt > stall.ms) throw stall.error();
  }
}
