import { describe, expect, it } from "vitest";
import { openRadio, radioBackends } from "../../src/radio/open-radio.js";
import { SimMedium } from "../../src/radio/sim/sim-medium.js";
import { radioContract } from "./radio-contract.js";

let medium: SimMedium;

radioContract("sim", {
  async pair() {
    medium = new SimMedium({ startMs: Date.UTC(2021, 0, 4, 9), seed: 3 });
    const a = await openRadio("sim", { sim: { medium, x: 0, y: 0 } });
    const b = await openRadio("sim", { sim: { medium, x: 1.5, y: 0 } });
    return { a, b, nowMs: () => medium.scheduler.nowMs() };
  },
  async advance(ms) {
    medium.scheduler.runFor(ms);
  },
});

describe("openRadio", () => {
  it("fails on an unknown back-end with the valid ones", async () => {
    await expect(openRadio("bluetooth")).rejects.toThrow(
      /unknown radio "bluetooth": use one of sim/,
    );
    expect(radioBackends()).toContain("sim");
  });
});
