import { describe, expect, it } from "vitest";
import { waitOnCounter, workerScript } from "../../src/core/worker-thread.js";

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

describe("waitOnCounter", () => {
  const counter = (value: number) => {
    const control = new Int32Array(new SharedArrayBuffer(8));
    control[1] = value;
    return control;
  };

  it("returns at once when the value already does", () => {
    let checks = 0;
    waitOnCounter(
      counter(3),
      1,
      (v) => v < 4,
      () => checks++,
    );
    expect(checks).toBe(0);
  });

  it("passes on what the check throws", () => {
    const failed = () => {
      throw new Error("the worker failed");
    };
    expect(() => waitOnCounter(counter(9), 1, (v) => v < 4, failed)).toThrow("the worker failed");
  });

  it("throws the stall error once the value has not moved for long enough", () => {
    const stall = { ms: 0, error: () => new Error("stuck") };
    expect(() =>
      waitOnCounter(
        counter(9),
        1,
        (v) => v < 4,
        () => {},
        stall,
      ),
    ).toThrow("stuck");
  });
});
