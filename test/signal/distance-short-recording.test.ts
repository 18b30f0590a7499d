/**
 * `proxkit distance` on the short recordings it is also used on: 10 s of RSSI give an estimate,
 * and the models' calibration (table and anechoic offsets) moves it the way it should.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runDistance } from "../../src/cli/commands/distance.js";
import { resolveDeviceModels } from "../../src/cli/device-models.js";
import { deviceOffsets } from "../../src/signal/device-offsets.js";

const dir = mkdtempSync(join(tmpdir(), "proxkit-distance-short-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A table where both phones have the neutral values, so only the anechoic offsets differ. */
const CALIBRATION = join(dir, "calibration.csv");
writeFileSync(
  CALIBRATION,
  "oem,model,rssi correction,tx,has direct measurement\nSamsung,SM-G973F,0,-24,yes\nGoogle,Pixel 4,0,-24,yes\n",
);

/** Ten seconds at -75 dBm, four readings a second. */
const TEN_SECONDS = join(dir, "ten-seconds.csv");
writeFileSync(
  TEN_SECONDS,
  ["time,rssi", ...Array.from({ length: 40 }, (_, i) => `${1_609_770_125 + i * 0.25},-75`)].join(
    "\n",
  ),
);

async function estimates(options: { rxModel?: string; txModel?: string }): Promise<number[]> {
  let out = "";
  await runDistance(
    { input: TEN_SECONDS, format: "jsonl", calibration: CALIBRATION, ...options },
    (text) => {
      out += text;
    },
    () => {},
  );
  return out
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line).distance_m);
}

describe("proxkit distance on 10 s of RSSI", () => {
  it("gives an estimate (no warm-up)", async () => {
    const rows = await estimates({});
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows[0]).toBeGreaterThan(0);
  });

  it("applies the anechoic offsets of the models it knows", async () => {
    // The S10's TX offset is about -9 dB: it transmits weaker than the table says, so the same
    // RSSI means less attenuation and a shorter distance than from an unknown sender.
    expect(deviceOffsets("SM-G973F")?.txOffsetDb).toBeLessThan(-5);
    const { txOffsetDb } = resolveDeviceModels(
      { rxModel: "Pixel 4", txModel: "SM-G973F", calibration: CALIBRATION },
      () => {},
    );
    expect(txOffsetDb).toBe(deviceOffsets("SM-G973F")?.txOffsetDb);
    const [fromS10] = await estimates({ rxModel: "Pixel 4", txModel: "SM-G973F" });
    const [fromUnknown] = await estimates({});
    expect(fromS10).toBeLessThan(fromUnknown);
  });
});
