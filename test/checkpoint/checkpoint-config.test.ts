import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  loadCheckpointConfig,
  validateCheckpointConfig,
} from "../../src/checkpoint/checkpoint-config.js";
import { ConfigError } from "../../src/core/errors.js";

describe("checkpoint configuration", () => {
  it("accepts a full configuration", () => {
    expect(
      validateCheckpointConfig({
        site: "library",
        checkpoint: "door-1",
        mqtt: "mqtt://collector:1883",
        protocols: ["gaen", "bluezone"],
        scan: { windowMs: 4000, intervalMs: 10_000 },
        scanPeriodS: 120,
        retentionDays: 14,
        research: true,
        storeAddresses: false,
        beacon: { protocol: "gaen", intervalMs: 250, txPowerDbm: -8 },
        hci: 1,
        rxRssiCorrectionDb: 3,
      }),
    ).toMatchObject({
      site: "library",
      scan: { windowMs: 4000 },
      scanPeriodS: 120,
      beacon: { protocol: "gaen" },
    });
    expect(validateCheckpointConfig({ scanPeriodS: 0 })).toEqual({ scanPeriodS: 0 });
  });

  it.each([
    [[], /must be a JSON object/],
    [{ sites: "x" }, /unknown key "sites"/],
    [{ protocols: ["gaen", "zigbee"] }, /protocols\[1\] must be one of/],
    [
      { scan: { windowMs: 20_000, intervalMs: 10_000 } },
      /scan.windowMs must be a number in 1..10000/,
    ],
    [{ retentionDays: 0 }, /retentionDays must be a number in 1..3650/],
    [{ scanPeriodS: 90 }, /"scanPeriodS" must be 0 .* or 60, 120, 180, 240, 300 seconds/],
    [{ scanPeriodS: "60" }, /"scanPeriodS" must be a number of seconds/],
    [{ research: "yes" }, /"research" must be true or false/],
    [{ beacon: { protocol: "ibeacon" } }, /beacon.protocol must be one of/],
    [{ site: "" }, /"site" must be a non-empty string/],
  ])("refuses %j", (doc, message) => {
    expect(() => validateCheckpointConfig(doc, "cfg")).toThrow(message);
  });

  it("names the file when it is missing or not JSON", () => {
    const dir = mkdtempSync(join(tmpdir(), "proxkit-cfg-"));
    try {
      const bad = join(dir, "bad.json");
      writeFileSync(bad, "{site:");
      expect(() => loadCheckpointConfig(bad)).toThrow(
        /^configuration .*bad.json is not valid JSON/,
      );
      expect(() => loadCheckpointConfig(join(dir, "none.json"))).toThrow(ConfigError);
      expect(() => loadCheckpointConfig(join(dir, "none.json"))).toThrow(/no such file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
