/**
 * Integration: two virtual controllers from BlueZ's `btvirt` (through /dev/vhci), the real
 * noble and bleno over real HCI sockets, one advertising and one scanning. Runs only where
 * /dev/vhci and btvirt exist (and as root, or with CAP_NET_ADMIN/CAP_NET_RAW); elsewhere it
 * is skipped with a message.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { formatAddress } from "../../src/ble/random-address.js";
import { toHex } from "../../src/core/hex.js";
import { cryptoRandom } from "../../src/core/random.js";
import { KeyStore } from "../../src/protocols/key-store.js";
import { RotatingAdvertiser } from "../../src/protocols/rotating-advertiser.js";
import { schemeFor } from "../../src/protocols/schemes.js";
import { HciRadio } from "../../src/radio/hci/hci-radio.js";
import type { RadioSighting } from "../../src/radio/radio.js";

function which(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;
}

const available = existsSync("/dev/vhci") && which("btvirt");
if (!available)
  console.log(
    "skipped hci-btvirt: needs /dev/vhci and BlueZ's btvirt (apt install bluez-test-tools)",
  );

function adapters(): string[] {
  try {
    return readdirSync("/sys/class/bluetooth").filter((n) => /^hci\d+$/.test(n));
  } catch {
    return [];
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!available)("hci radio on two btvirt controllers", () => {
  let btvirt: ChildProcess | undefined;
  afterAll(() => {
    btvirt?.kill("SIGTERM");
  });

  it("one advertises a rotating GAEN ID from a random address, the other hears it", async () => {
    const before = new Set(adapters());
    btvirt = spawn("btvirt", ["-l2"], { stdio: "ignore" });
    let created: string[] = [];
    for (let i = 0; i < 50 && created.length < 2; i++) {
      await sleep(100);
      created = adapters().filter((a) => !before.has(a));
    }
    expect(created.length, "btvirt created two controllers").toBeGreaterThanOrEqual(2);
    for (const name of created) {
      if (which("hciconfig")) spawnSync("hciconfig", [name, "up"]);
      else spawnSync("btmgmt", ["--index", name.slice(3), "power", "on"]);
    }
    const [advertiserId, scannerId] = created.map((name) => Number(name.slice(3)));
    const a = new HciRadio({ deviceId: advertiserId, readyTimeoutMs: 5000 });
    const b = new HciRadio({ deviceId: scannerId, readyTimeoutMs: 5000 });
    const store = new KeyStore("gaen");
    const source = new RotatingAdvertiser({
      scheme: schemeFor("gaen"),
      keyForDay: (_day, atMs) => store.ensureCurrent(atMs, cryptoRandom),
      random: cryptoRandom,
      txPowerDbm: 0,
    });
    const sightings: RadioSighting[] = [];
    b.scanner.on("sighting", (s) => sightings.push(s));
    try {
      await b.scanner.start({ protocols: ["gaen"] });
      await a.advertiser.start({ source, intervalMs: 100 });
      expect(a.advertiser.addressMode).toBe("random");
      await sleep(3000);
    } finally {
      await a.stop();
      await b.stop();
    }
    expect(sightings.length).toBeGreaterThan(5);
    const sent = source.at(Date.now());
    const last = sightings.at(-1)!;
    expect(toHex(last.id)).toBe(toHex(sent.id.id));
    expect(formatAddress(last.address)).toBe(formatAddress(sent.address));
    expect(a.advertiser.currentAddress).toBe(formatAddress(sent.address));
  }, 30_000);
});
