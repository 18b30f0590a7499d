import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { classifyAdvertisement, rollingIdOf } from "../../src/ble/classify-advertisement.js";
import { fromHex, toHex } from "../../src/core/hex.js";
import { deriveRpi, deriveRpikAndAemk, enIntervalNumber } from "../../src/protocols/gaen.js";
import { readCaptureSightingsSync } from "../../src/radio/replay/capture-sightings.js";
import { runCli } from "./run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "proxkit-hci-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Dates relative to the test run: `keys new` makes a store whose first key is today's.
const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const TODAY = isoDay(Date.now());
const TOMORROW = isoDay(Date.now() + DAY_MS);
const AT = `${TODAY}T09:31:00Z`;

function newStore(protocol: string, name: string): string {
  const path = join(dir, name);
  const { code, stderr } = runCli(["keys", "new", "-p", protocol, "-o", path]);
  expect(code, stderr).toBe(0);
  return path;
}

function storeKeys(path: string): { day: number; key: string }[] {
  return JSON.parse(readFileSync(path, "utf8")).keys;
}

describe("proxkit hci commands", () => {
  it("hcitool lines: the five commands, the key store's RPI for --at", () => {
    const store = newStore("gaen", "g1.json");
    const { code, stdout, stderr } = runCli([
      "hci",
      "commands",
      "-p",
      "gaen",
      "-k",
      store,
      "--at",
      AT,
      "--hci",
      "1",
    ]);
    expect(code, stderr).toBe(0);
    const lines = stdout.split("\n").filter((l) => l.startsWith("hcitool"));
    expect(lines.map((l) => l.split(" ").slice(0, 6).join(" "))).toEqual([
      "hcitool -i hci1 cmd 0x08 0x000a",
      "hcitool -i hci1 cmd 0x08 0x0005",
      "hcitool -i hci1 cmd 0x08 0x0006",
      "hcitool -i hci1 cmd 0x08 0x0008",
      "hcitool -i hci1 cmd 0x08 0x000a",
    ]);
    expect(lines[2].split(" ").slice(6).join(" ")).toBe(
      "40 01 B0 01 03 01 00 00 00 00 00 00 00 07 00",
    );
    // The data command carries the RPI of --at's interval, from the day's key in the store.
    const data = fromHex(lines[3].split(" ").slice(6).join(""));
    expect(data[0]).toBe(31);
    const classified = classifyAdvertisement(data.subarray(1, 1 + data[0]));
    const key = storeKeys(store).find((k) => k.day === Math.floor(Date.parse(AT) / 86_400_000))!;
    const { rpik } = deriveRpikAndAemk(fromHex(key.key));
    expect(toHex(rollingIdOf(classified)!)).toBe(
      toHex(deriveRpi(rpik, enIntervalNumber(Date.parse(AT)))),
    );
    // The address command: the printed address (stdout comment) reversed.
    const printed = /from address ([0-9a-f:]{17})/.exec(stdout)![1].replace(/:/g, "");
    expect(lines[1].split(" ").slice(6).join("").toLowerCase()).toBe(
      toHex(fromHex(printed).reverse()),
    );
    expect(stderr).toMatch(new RegExp(`valid until ${TODAY}T09:(4|5)\\d:`));
  });

  it("hex and C formats; a missing day's key is added to the store", () => {
    const store = newStore("bluezone", "b1.json");
    const hex = runCli([
      "hci",
      "commands",
      "-p",
      "bluezone",
      "-k",
      store,
      "-f",
      "hex",
      "--at",
      "2030-01-01T00:00Z",
    ]);
    expect(hex.code, hex.stderr).toBe(0);
    const packets = hex.stdout.trim().split("\n");
    expect(packets).toHaveLength(5);
    expect(packets[0]).toBe("010a200100");
    expect(packets[4]).toBe("010a200101");
    expect(
      packets.every(
        (p) => p.startsWith("01") && p.length / 2 === 4 + Number.parseInt(p.slice(6, 8), 16),
      ),
    ).toBe(true);
    expect(hex.stderr).toMatch(/added .* to /);
    expect(storeKeys(store).some((k) => k.day === Date.UTC(2030, 0, 1) / 86_400_000)).toBe(true);
    expect(statSync(store).mode & 0o777).toBe(0o600);
    const c = runCli(["hci", "commands", "-p", "bluezone", "-k", store, "-f", "c"]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toContain("static const uint8_t proxkit_hci_commands[] = {");
  });

  it("bad input: one line, exit 2", () => {
    const store = newStore("dp3t", "d1.json");
    for (const [args, message] of [
      [["-p", "gaen", "-k", store], /holds dp3t keys, not gaen/],
      [["-p", "dp3t", "-k", join(dir, "none.json")], /does not exist/],
      [["-p", "dp3t", "-k", store, "--at", "yesterday"], /--at must be an ISO date/],
      [["-p", "dp3t", "-k", store, "--at", "2001-01-01"], /first key is for/],
    ] as const) {
      const r = runCli(["hci", "commands", ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});

describe("proxkit firmware schedule", () => {
  it("json: every rotation, the key-material warning, future keys kept in the store", () => {
    const store = newStore("gaen", "g2.json");
    const before = storeKeys(store).length;
    const { code, stdout, stderr } = runCli([
      "firmware",
      "schedule",
      "-p",
      "gaen",
      "-k",
      store,
      "--days",
      "2",
      "--from",
      TOMORROW,
      "-f",
      "json",
    ]);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/key material.*track.*future GAEN RPIs/);
    const schedule = JSON.parse(stdout);
    expect(schedule).toMatchObject({
      protocol: "gaen",
      from: `${TOMORROW}T00:00:00.000Z`,
      to: `${isoDay(Date.now() + 3 * DAY_MS)}T00:00:00.000Z`,
    });
    expect(schedule.entries.length).toBeGreaterThan(2 * 72);
    expect(schedule.entries.length).toBeLessThanOrEqual(2 * 144 + 1);
    expect(storeKeys(store).length).toBe(before + 2);
  });

  it("c to a 0600 file; refuses to overwrite it", () => {
    const store = newStore("dp3t", "d2.json");
    const out = join(dir, "schedule.h");
    const args = [
      "firmware",
      "schedule",
      "-p",
      "dp3t",
      "-k",
      store,
      "-n",
      "1",
      "-f",
      "c",
      "-o",
      out,
    ];
    const first = runCli(args);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe("");
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out, "utf8")).toContain("proxkit_rotation_t proxkit_schedule[]");
    const again = runCli(args);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  });

  it("--days out of range is bad input", () => {
    const store = newStore("bluezone", "b2.json");
    const r = runCli([
      "firmware",
      "schedule",
      "-p",
      "bluezone",
      "-k",
      store,
      "-n",
      "400",
      "-f",
      "json",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--days must be between 1 and 366/);
  });
});

describe("proxkit hci capture", () => {
  it("writes a synthetic capture the replay reader decodes", () => {
    const out = join(dir, "demo.btsnoop");
    const r = runCli([
      "hci",
      "capture",
      "-o",
      out,
      "--devices",
      "4",
      "--duration",
      "30s",
      "-p",
      "gaen",
      "-p",
      "bluezone",
      "--start",
      "2026-11-27T12:00Z",
      "--datalink",
      "h4",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const protocols = new Set<string>();
    const counts = readCaptureSightingsSync(out, (s) => protocols.add(s.protocol));
    expect(counts.sightings).toBeGreaterThan(100);
    expect([...protocols].sort()).toEqual(["bluezone", "gaen"]);
    expect(r.stderr).toContain(`${counts.sightings} advertising reports`);
    const again = runCli(["hci", "capture", "-o", out]);
    expect(again.code).toBe(2);
  });

  it("help teaches", () => {
    for (const sub of ["commands", "capture"]) {
      const r = runCli(["hci", sub, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Examples:/);
    }
    expect(runCli(["firmware", "schedule", "--help"]).stdout).toMatch(/KEY MATERIAL/);
  });
});
