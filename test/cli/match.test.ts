import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { toHex } from "../../src/core/hex.js";
import { SeededRandom } from "../../src/core/random.js";
import { unzipKeyFile, zipKeyFile } from "../../src/exposure/key-file/index.js";
import { deriveBluezoneIds } from "../../src/protocols/bluezone.js";
import {
  cryptAem,
  deriveRpikAndAemk,
  deriveRpis,
  encodeMetadata,
} from "../../src/protocols/gaen.js";
import { runCli } from "./run-cli.js";
import { itWith, needData, sharedData } from "../support/requirements.js";

const dir = mkdtempSync(join(tmpdir(), "proxkit-match-"));
const GAEN_DATA = sharedData("gaen");
const REAL_GAEN = needData("gaen");
const SAMPLE_KEY =
  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE49JY6kekDgxj3Crm4y6kEHdfoKQFSNDM4mV9cgDb+e5nOAw0GeRoRThCu9/wX5wDT2QloFoOjl2pGZHI0f3C3w==";
const START = 2642976; // 2020-04-02T00:00Z

/** A published GAEN key and what a receiver heard of it: a 4 s scan every 5 minutes for 20 minutes, ~1 m away. */
function scenario() {
  const random = new SeededRandom(3);
  const keys = Array.from({ length: 5 }, () => random.bytes(16));
  const lines = keys.map((k) =>
    JSON.stringify({ key: toHex(k), rollingStartIntervalNumber: START, rollingPeriod: 144 }),
  );
  const { rpik, aemk } = deriveRpikAndAemk(keys[2]);
  const sightings: string[] = [];
  for (let minute = 540; minute <= 560; minute += 5) {
    const interval = START + Math.floor(minute / 10);
    const rpi = deriveRpis(rpik, interval, 1);
    const aem = cryptAem(aemk, rpi, encodeMetadata(-10));
    for (let s = 0; s < 4; s++) {
      sightings.push(
        JSON.stringify({
          t: START * 600 + minute * 60 + s,
          protocol: "gaen",
          rpi: toHex(rpi),
          aem: toHex(aem),
          rssi: -62,
        }),
      );
    }
  }
  // A stranger's RPI, and a replay of the key's RPI three hours late.
  sightings.push(
    JSON.stringify({
      t: START * 600 + 3000,
      protocol: "gaen",
      rpi: toHex(random.bytes(16)),
      aem: "00000000",
      rssi: -40,
    }),
  );
  const replayed = deriveRpis(rpik, START + 10, 1);
  sightings.push(
    JSON.stringify({
      t: (START + 10 + 18) * 600,
      protocol: "gaen",
      rpi: toHex(replayed),
      aem: toHex(cryptAem(aemk, replayed, encodeMetadata(-10))),
      rssi: -40,
    }),
  );
  writeFileSync(join(dir, "keys.jsonl"), `${lines.join("\n")}\n`);
  writeFileSync(join(dir, "heard.jsonl"), `${sightings.join("\n")}\n`);
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  writeFileSync(join(dir, "signing.pem"), privateKey.export({ type: "sec1", format: "pem" }));
  writeFileSync(join(dir, "public.pem"), publicKey.export({ type: "spki", format: "pem" }));
}

describe("proxkit keys export / inspect / match", () => {
  beforeAll(scenario);

  it("exports a signed key file that inspects as valid, and invalid after one flipped byte", () => {
    const zip = join(dir, "export.zip");
    const out = runCli([
      "keys",
      "export",
      "--keys",
      join(dir, "keys.jsonl"),
      "--signing-key",
      join(dir, "signing.pem"),
      "--out",
      zip,
      "--region",
      "IE",
    ]);
    expect(out.code).toBe(0);
    const inspected = runCli(["keys", "inspect", zip, "--public-key", join(dir, "public.pem")]);
    expect(inspected.code).toBe(0);
    expect(JSON.parse(inspected.stdout)).toMatchObject({
      region: "IE",
      batch: [1, 1],
      keys: 5,
      signature: "valid",
    });
    // Flip one byte of export.bin and zip it again with the original signature.
    const parts = unzipKeyFile(readFileSync(zip));
    const bin = Uint8Array.from(parts.bin);
    bin[bin.length - 3] ^= 0x01;
    writeFileSync(join(dir, "tampered.zip"), zipKeyFile({ bin, sig: parts.sig }));
    const bad = runCli([
      "keys",
      "inspect",
      join(dir, "tampered.zip"),
      "--public-key",
      join(dir, "public.pem"),
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/invalid|damaged|altered|CRC/i);
  });

  it("matches the published key: one window, replays and strangers rejected, notified by the default detector", () => {
    const zip = join(dir, "export.zip");
    const { code, stdout } = runCli([
      "match",
      "--keys",
      zip,
      "--sightings",
      join(dir, "heard.jsonl"),
    ]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.windows.length).toBe(1);
    expect(result.windows[0].scanInstances.length).toBe(5);
    expect(result.windows[0].scanInstances[0]).toEqual({
      t: START * 600 + 540 * 60,
      typicalAttenuationDb: 52,
      minAttenuationDb: 52,
      secondsSinceLastScan: 120,
    });
    expect(result.counts).toMatchObject({ accepted: 20, rejectedOutsideTolerance: 1 });
    expect(result.dailySummaries[0].day).toBe("2020-04-02");
    expect(typeof result.notified).toBe("boolean");
  });

  itWith(REAL_GAEN)("calibrates attenuation for the receiving phone named by --rx-model", () => {
    const args = [
      "match",
      "--keys",
      join(dir, "keys.jsonl"),
      "--sightings",
      join(dir, "heard.jsonl"),
    ];
    const { code, stdout } = runCli([...args, "--rx-model", "Google Pixel 2"]);
    expect(code).toBe(0);
    // Pixel 2: RSSI correction -6 dB, so attenuation = -10 - (-62 - 6) = 58 dB.
    expect(JSON.parse(stdout).windows[0].scanInstances[0].typicalAttenuationDb).toBe(58);
    const both = runCli([...args, "--rx-model", "Pixel 2", "--rx-correction", "-3"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--rx-model or --rx-correction, not both/);
  });

  it("scores with a named preset", () => {
    const { stdout } = runCli([
      "match",
      "--keys",
      join(dir, "keys.jsonl"),
      "--sightings",
      join(dir, "heard.jsonl"),
      "--preset",
      "cwa-v1",
    ]);
    const result = JSON.parse(stdout);
    // 120 + 4 * 300 s at 52 dB (below 55: weight 1) = 22 weighted minutes
    expect(result.dailySummaries[0]).toMatchObject({ weightedDurationSum: 1320, notified: true });
    expect(result.preset).toBe("cwa-v1");
  });

  it("--scan-period 60 cuts a continuous scanner's sightings into one-minute scans", () => {
    // Keys[2] heard every second for 10 minutes (one RPI interval), as a checkpoint records it.
    const random = new SeededRandom(3);
    const keys = Array.from({ length: 5 }, () => random.bytes(16));
    const { rpik, aemk } = deriveRpikAndAemk(keys[2]);
    const rpi = deriveRpis(rpik, START + 54, 1);
    const aem = toHex(cryptAem(aemk, rpi, encodeMetadata(-10)));
    const lines = Array.from({ length: 600 }, (_, s) =>
      JSON.stringify({
        t: START * 600 + 540 * 60 + s,
        protocol: "gaen",
        rpi: toHex(rpi),
        aem,
        rssi: -62,
      }),
    );
    writeFileSync(join(dir, "continuous.jsonl"), `${lines.join("\n")}\n`);
    const args = [
      "match",
      "--keys",
      join(dir, "keys.jsonl"),
      "--sightings",
      join(dir, "continuous.jsonl"),
      "--preset",
      "cwa-v1",
    ];
    const seconds = (out: { windows: { scanInstances: { secondsSinceLastScan: number }[] }[] }) =>
      out.windows[0].scanInstances.map((s) => s.secondsSinceLastScan);
    const exact = JSON.parse(runCli(args).stdout);
    expect(seconds(exact)).toEqual([120]);
    const cut = JSON.parse(runCli([...args, "--scan-period", "60"]).stdout);
    expect(seconds(cut)).toEqual([120, ...Array(9).fill(60)]);
    expect(cut.dailySummaries[0].weightedDurationSum).toBe(660);
    expect(seconds(JSON.parse(runCli([...args, "--scan-period", "0"]).stdout))).toEqual([120]);
  });

  it("matches Bluezone day keys given as JSON lines", () => {
    const dailyKey = new SeededRandom(8).bytes(32);
    const ids = deriveBluezoneIds(dailyKey);
    const day0 = Date.UTC(2021, 6, 1) / 1000;
    const heard = [0, 1, 2].map((slot) =>
      JSON.stringify({
        t: day0 + slot * 900 + 10,
        protocol: "bluezone",
        id: toHex(ids.subarray(12 * slot, 12 * slot + 12)),
        rssi: -60,
      }),
    );
    writeFileSync(join(dir, "bz-heard.jsonl"), heard.join("\n"));
    writeFileSync(
      join(dir, "bz-keys.jsonl"),
      JSON.stringify({ protocol: "bluezone", key: toHex(dailyKey), date: "2021-07-01" }),
    );
    const result = JSON.parse(
      runCli([
        "match",
        "--keys",
        join(dir, "bz-keys.jsonl"),
        "--sightings",
        join(dir, "bz-heard.jsonl"),
      ]).stdout,
    );
    expect(result.counts.dayKeyMatches).toBe(3);
    expect(result.windows[0].protocol).toBe("bluezone");
  });

  itWith(REAL_GAEN)("inspects Google's signed sample file", () => {
    const { code, stdout } = runCli([
      "keys",
      "inspect",
      join(GAEN_DATA, "sample-signed-export.zip"),
      "--public-key",
      SAMPLE_KEY,
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      region: "US",
      start: 1593633600,
      end: 1593633900,
      batch: [1, 1],
      keys: 140,
      signature: "valid",
    });
  });

  const bad: [string, string[], RegExp][] = [
    [
      "unknown preset",
      ["match", "--keys", "x.zip", "--sightings", "y", "--preset", "nope"],
      /unknown preset/,
    ],
    [
      "missing key file",
      ["match", "--keys", "/nonexistent.zip", "--sightings", "y"],
      /does not exist/,
    ],
    ["missing sightings", ["keys", "inspect", "/nonexistent.zip"], /does not exist/],
    [
      "scan period not a whole number of minutes",
      ["match", "--keys", "x.zip", "--sightings", "y", "--scan-period", "90"],
      /--scan-period must be 0 .* or 60, 120, 180, 240, 300 seconds/,
    ],
    [
      "scan period not a number",
      ["match", "--keys", "x.zip", "--sightings", "y", "--scan-period", "fast"],
      /--scan-period must be .*got "fast"/,
    ],
  ];
  it.each(bad)("bad input: %s", (_name, args, message) => {
    const { code, stderr } = runCli(args);
    expect(code).toBe(2);
    expect(stderr.trim().split("\n").length).toBe(1);
    expect(stderr).toMatch(message);
  });

  it("bad sighting lines are named with their line number", () => {
    writeFileSync(
      join(dir, "bad.jsonl"),
      '{"t": 1, "protocol": "gaen", "rpi": "00", "rssi": -60}\n',
    );
    const { code, stderr } = runCli([
      "match",
      "--keys",
      join(dir, "keys.jsonl"),
      "--sightings",
      join(dir, "bad.jsonl"),
    ]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/bad.jsonl line 1: .*16 bytes/);
  });
});
