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
