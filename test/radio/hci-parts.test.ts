import { describe, expect, it } from "vitest";
import { parseAdvertisingData } from "../../src/ble/advertising-data.js";
import { classifyAdvertisement, rollingIdOf } from "../../src/ble/classify-advertisement.js";
import { toHex } from "../../src/core/hex.js";
import { SeededRandom } from "../../src/core/random.js";
import { KeyStore } from "../../src/protocols/key-store.js";
import { PROTOCOLS } from "../../src/protocols/rolling-id-scheme.js";
import { RotatingAdvertiser } from "../../src/protocols/rotating-advertiser.js";
import { schemeFor } from "../../src/protocols/schemes.js";
import { checkAdapterPresent, systemProbe } from "../../src/radio/hci/adapter-diagnosis.js";
import { loadBleLibrary } from "../../src/radio/hci/ble-library.js";
import {
  commandCompleteEvent,
  commandResult,
  leSetAdvertisingParameters,
  leSetRandomAddress,
  OPCODE,
  OWN_ADDRESS_RANDOM,
} from "../../src/radio/hci/hci-commands.js";
import { HciRadio } from "../../src/radio/hci/hci-radio.js";
import { addressBytes, advertisingDataOf } from "../../src/radio/hci/noble-advertisement.js";
import type { RadioSighting } from "../../src/radio/radio.js";
import { SimMedium } from "../../src/radio/sim/sim-medium.js";
import {
  FakeBlenoBindings,
  FakeController,
  FakeNobleBindings,
  virtualTimers,
} from "./hci-fakes.js";

describe("noble advertisement → advertising data", () => {
  it.each(PROTOCOLS)("%s: the rebuilt bytes carry the same ID", (protocol) => {
    const random = new SeededRandom(4);
    const store = new KeyStore(protocol);
    const b = new RotatingAdvertiser({
      scheme: schemeFor(protocol),
      keyForDay: (_d, t) => store.ensureCurrent(t, random),
      random,
      txPowerDbm: -8,
    }).at(Date.UTC(2021, 0, 4, 9));
    // noble's view: service UUIDs as hex strings, service data by UUID, manufacturer data with its company id.
    const advertisement: Parameters<typeof advertisingDataOf>[0] = {
      serviceUuids: [],
      serviceData: [],
    };
    for (const s of parseAdvertisingData(b.payload)) {
      if (s.type === "serviceUuids16")
        advertisement.serviceUuids!.push(...s.uuids.map((u) => u.toString(16)));
      if (s.type === "serviceData16")
        advertisement.serviceData!.push({ uuid: s.uuid.toString(16), data: s.data });
      if (s.type === "manufacturerData")
        advertisement.manufacturerData = Uint8Array.from([
          s.companyId & 0xff,
          s.companyId >> 8,
          ...s.data,
        ]);
    }
    const rebuilt = advertisingDataOf(advertisement)!;
    const classified = classifyAdvertisement(rebuilt);
    expect(classified.protocol).toBe(protocol);
    expect(toHex(rollingIdOf(classified)!)).toBe(toHex(b.id.id));
  });

  it("addresses: noble's text form to bytes, zeros when absent", () => {
    expect(toHex(addressBytes("1a:2b:3c:4d:5e:6f"))).toBe("1a2b3c4d5e6f");
    expect(toHex(addressBytes(undefined))).toBe("000000000000");
    expect(toHex(addressBytes("zz:2b:3c:4d:5e:6f"))).toBe("000000000000");
  });
});

describe("HCI command packets", () => {
  it("LE Set Random Address and parameters, as written to the socket (Core spec Vol 4 Part E §7.8.4-5)", () => {
    expect(toHex(leSetRandomAddress(Uint8Array.from([0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f])))).toBe(
      "01052006" + "6f5e4d3c2b1a",
    );
    // 250 ms = 400 units = 0x0190; ADV_NONCONN_IND, own address random, all channels.
    expect(
      toHex(leSetAdvertisingParameters({ intervalMs: 250, ownAddressType: OWN_ADDRESS_RANDOM })),
    ).toBe("0106200f" + "9001" + "9001" + "03" + "01" + "00" + "000000000000" + "07" + "00");
  });

  it("answers: Command Complete and Command Status", () => {
    expect(commandResult(commandCompleteEvent(OPCODE.leSetRandomAddress, 0x12))).toEqual({
      opcode: 0x2005,
      status: 0x12,
    });
    expect(commandResult(Uint8Array.from([0x04, 0x0f, 4, 0x0c, 1, 0x0a, 0x20]))).toEqual({
      opcode: 0x200a,
      status: 0x0c,
    });
    expect(commandResult(Uint8Array.from([0x04, 0x3e, 3, 2, 0, 0]))).toBeUndefined();
  });
});

describe("adapter checks", () => {
  it("the system probe reads this machine without throwing", () => {
    const adapters = systemProbe.adapters();
    expect(adapters === undefined || Array.isArray(adapters)).toBe(true);
    expect(typeof systemProbe.hasRawSocketPermission()).toBe("boolean");
  });

  it("USB/UART transports are not checked against the kernel's adapters", () => {
    const probe = {
      adapters: () => undefined,
      hasRawSocketPermission: () => false,
      usesKernelAdapters: false,
    };
    expect(checkAdapterPresent(0, probe)).toBeUndefined();
  });
});

describe("library loading", () => {
  it("takes @abandonware/noble when @stoprocent/noble is not installed", async () => {
    const medium = new SimMedium({ startMs: Date.UTC(2021, 0, 4, 9) });
    const timers = virtualTimers(medium.scheduler);
    const tx = medium.addNode(0, 0);
    const rx = medium.addNode(1, 0);
    const { default: Noble } = (await import("@stoprocent/noble/lib/noble.js" as string)) as {
      default: new (bindings: unknown) => unknown;
    };
    const abandonwareDefault = new Noble(new FakeNobleBindings(medium, rx));
    const importModule = async (specifier: string) => {
      if (specifier.startsWith("@stoprocent/")) {
        const error = new Error(
          `Cannot find package '${specifier.split("/").slice(0, 2).join("/")}' imported from x`,
        );
        (error as NodeJS.ErrnoException).code = "ERR_MODULE_NOT_FOUND";
        throw error;
      }
      if (specifier === "@abandonware/noble") return { default: abandonwareDefault };
      throw new Error(`unexpected import ${specifier}`);
    };
    const library = await loadBleLibrary("noble", {}, importModule);
    expect(library.packageName).toBe("@abandonware/noble");
    const scanner = new HciRadio({
      timers,
      importModule,
      probe: {
        adapters: () => ["hci0"],
        hasRawSocketPermission: () => true,
        usesKernelAdapters: true,
      },
    });
    const advertiser = new HciRadio({
      timers,
      blenoBindings: () => new FakeBlenoBindings(new FakeController(medium, tx)),
    });
    const sightings: RadioSighting[] = [];
    scanner.scanner.on("sighting", (s) => sightings.push(s));
    await scanner.scanner.start();
    const random = new SeededRandom(2);
    const store = new KeyStore("gaen");
    await advertiser.advertiser.start({
      source: new RotatingAdvertiser({
        scheme: schemeFor("gaen"),
        keyForDay: (_d, t) => store.ensureCurrent(t, random),
        random,
        txPowerDbm: 0,
      }),
    });
    for (let i = 0; i < 20; i++) {
      medium.scheduler.runFor(100);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(sightings.length).toBeGreaterThan(3);
    await scanner.stop();
    await advertiser.stop();
  });
});
