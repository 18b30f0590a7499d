/** `proxkit checkpoint`'s option resolution: command line over configuration over defaults. */
import { describe, expect, it } from "vitest";
import { type CheckpointArgs, resolveCheckpointOptions } from "../../src/cli/checkpoint-options.js";

const sim = (extra: Partial<CheckpointArgs> = {}): CheckpointArgs => ({
  radio: "sim",
  db: "day.sqlite",
  scenario: "checkpoint-queue",
  for: "24h",
  ...extra,
});

describe("resolveCheckpointOptions", () => {
  it("fills in the defaults: a sim run on the virtual clock, nothing forwarded", () => {
    const r = resolveCheckpointOptions(sim());
    expect(r.scenario).toBe("checkpoint-queue");
    expect(r.mqttUrl).toBeUndefined();
    expect(r.run).toMatchObject({
      radio: "sim",
      db: "day.sqlite",
      virtual: true,
      forMs: 86_400_000,
      research: false,
      storeAddresses: false,
      echoWindows: false,
    });
    expect(r.run.site).toBeUndefined();
    expect(r.run.beacon).toBeUndefined();
    expect(r.run.maxScanInstanceMs).toBeUndefined();
  });

  it("takes the configuration where the command line is silent, and the command line over it", () => {
    const config = {
      site: "library",
      checkpoint: "door-1",
      mqtt: "mqtt://collector:1883",
      protocols: ["gaen" as const],
      scan: { windowMs: 4000, intervalMs: 10_000 },
      scanPeriodS: 120,
      retentionDays: 7,
      research: true,
      beacon: { protocol: "dp3t" as const, intervalMs: 300, txPowerDbm: -8 },
      hci: 1,
      rxRssiCorrectionDb: 3,
    };
    const fromConfig = resolveCheckpointOptions({ radio: "hci", db: "cp.sqlite" }, config);
    expect(fromConfig.mqttUrl).toBe("mqtt://collector:1883");
    expect(fromConfig.run).toMatchObject({
      site: "library",
      checkpoint: "door-1",
      virtual: false,
      hci: 1,
      protocols: ["gaen"],
      scanWindowMs: 4000,
      scanIntervalMs: 10_000,
      maxScanInstanceMs: 120_000,
      retentionDays: 7,
      research: true,
      beacon: { protocol: "dp3t", intervalMs: 300, txPowerDbm: -8 },
      rxRssiCorrectionDb: 3,
    });
    const overridden = resolveCheckpointOptions(
      {
        radio: "hci",
        db: "cp.sqlite",
        site: "museum",
        mqtt: "mqtt://other:1883",
        protocol: ["bluezone"],
        "scan-period": "60",
        "retention-days": 30,
        research: false,
        beacon: "gaen",
        hci: 0,
      },
      config,
    );
    expect(overridden.mqttUrl).toBe("mqtt://other:1883");
    expect(overridden.run).toMatchObject({
      site: "museum",
      checkpoint: "door-1",
      hci: 0,
      protocols: ["bluezone"],
      maxScanInstanceMs: 60_000,
      retentionDays: 30,
      research: false,
      beacon: { protocol: "gaen", intervalMs: 300, txPowerDbm: -8 },
    });
  });

  it("resolves a replay and a paced simulation", () => {
    expect(
      resolveCheckpointOptions({ radio: "replay", db: "r.sqlite", capture: "c.btsnoop", speed: 0 })
        .run,
    ).toMatchObject({ radio: "replay", capture: "c.btsnoop", speed: 0, virtual: false });
    const paced = resolveCheckpointOptions(
      sim({ clock: "real", for: undefined, start: "2026-11-27T09:00Z", seed: 4, agents: 20 }),
    );
    expect(paced.run).toMatchObject({
      virtual: false,
      forMs: undefined,
      startMs: Date.UTC(2026, 10, 27, 9),
      seed: 4,
      agents: 20,
    });
  });

  it.each<[Partial<CheckpointArgs>, RegExp]>([
    [{ radio: "bluetooth" }, /unknown radio "bluetooth": use one of sim, replay, hci/],
    [
      { radio: "hci", scenario: undefined, for: undefined, capture: "x" },
      /--capture is for --radio replay, not hci/,
    ],
    [{ hci: 0 }, /--hci is for --radio hci, not sim/],
    [{ seed: -1 }, /--seed/],
    [{ agents: 0 }, /--agents/],
    [
      { radio: "replay", scenario: undefined, capture: "c", speed: -1, for: undefined },
      /--speed must be 0/,
    ],
    [{ clock: "fast" }, /--clock must be real or virtual/],
    [{ radio: "hci", scenario: undefined, clock: "virtual" }, /--clock virtual needs --radio sim/],
    [{ scenario: undefined }, /--radio sim needs --scenario/],
    [{ radio: "replay", scenario: undefined, for: undefined }, /--radio replay needs --capture/],
    [{ for: undefined }, /--clock virtual needs --for/],
    [{ for: "soon" }, /--for must be a duration/],
    [{ start: "tomorrow" }, /--start must be an ISO date/],
    [{ protocol: ["herald"] }, /--protocol must be one of gaen, dp3t, bluezone/],
    [{ "retention-days": 0 }, /--retention-days/],
    [{ "scan-period": "7" }, /--scan-period/],
    [{ beacon: "ibeacon" }, /--beacon must be one of/],
  ])("refuses %o", (extra, message) => {
    expect(() => resolveCheckpointOptions(sim(extra))).toThrow(message);
  });

  it("names the configuration's key when the bad value comes from it", () => {
    expect(() => resolveCheckpointOptions(sim(), { scanPeriodS: 7 })).toThrow(/scanPeriodS/);
  });
});
