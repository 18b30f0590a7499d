import { describe, expect, it } from "vitest";
import { workerScript } from "../../src/core/worker-script.js";

describe("workerScript", () => {
  it("is the module itself once compiled", () => {
    const url = "file:///opt/proxkit/dist/sim/io/parquet-thread.js";
    expect(workerScript(url, "sim/io/parquet-thread").href).toBe(url);
  });

  it("is the compiled copy under dist/ when running from sources", () => {
    expect(
      workerScript("file:///work/proxkit/sim/io/parquet-thread.ts", "sim/io/parquet-thread").href,
    ).toBe("file:///work/proxkit/dist/sim/io/parquet-thread.js");
    expect(workerScript("file:///r/src/core/x.ts", "src/core/x").href).toBe(
      "file:///r/dist/src/core/x.js",
    );
  });
});
