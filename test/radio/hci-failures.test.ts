/**
 * Each way the HCI back-end can fail to start gives one sentence with the fix, quickly, and
 * leaves nothing running. The real noble and bleno are used where this machine allows (it has
 * no Bluetooth: their sockets fail, which is the "unsupported" case).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { RadioError } from "../../src/core/errors.js";
import { SeededRandom } from "../../src/core/random.js";
import { KeyStore } from "../../src/protocols/key-store.js";
import { RotatingAdvertiser } from "../../src/protocols/rotating-advertiser.js";
import { schemeFor } from "../../src/protocols/schemes.js";
import type { AdapterProbe } from "../../src/radio/hci/adapter-diagnosis.js";
import { HciRadio } from "../../src/radio/hci/hci-radio.js";
import type { HciRadioOptions } from "../../src/radio/hci/hci-settings.js";
import { LibraryGuard } from "../../src/radio/hci/library-guard.js";
import { systemTimers } from "../../src/radio/hci/timers.js";
import { SimMedium } from "../../src/radio/sim/sim-medium.js";
import { FakeBlenoBindings, FakeController, FakeNobleBindings } from "./hci-fakes.js";
import { itWith, needs } from "../support/requirements.js";

const probe = (overrides: Partial<AdapterProbe> = {}): AdapterProbe => ({
  adapters: () => ["hci0"],
  hasRawSocketPermission: () => true,
  usesKernelAdapters: true,
  ...overrides,
});

function source() {
  const random = new SeededRandom(1);
  const store = new KeyStore("gaen");
  return new RotatingAdvertiser({
    scheme: schemeFor("gaen"),
    keyForDay: (_day, atMs) => store.ensureCurrent(atMs, random),
    random,
    txPowerDbm: -20,
  });
}

/** Starts the scanner and the advertiser; both must fail with `pattern` (and the same code). */
async function expectBothFail(options: HciRadioOptions, code: string, pattern: RegExp) {
  for (const part of ["scanner", "advertiser"] as const) {
    const radio = new HciRadio({ readyTimeoutMs: 300, ...options });
    const started = Date.now();
    const error = await (part === "scanner"
      ? radio.scanner.start()
      : radio.advertiser.start({ source: source() })
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error, part).toBeInstanceOf(RadioError);
    expect((error as RadioError).code, part).toBe(code);
    expect((error as Error).message, part).toMatch(pattern);
    expect((error as Error).message.split("\n")).toHaveLength(1);
    expect(radio[part].state).toBe("unavailable");
    await radio.stop();
    expect(radio[part].state).toBe("stopped");
  }
}

const missing = (name: string) => {
  const error = new Error(`Cannot find package '${name}' imported from /app/dist/x.js`);
  (error as NodeJS.ErrnoException).code = "ERR_MODULE_NOT_FOUND";
  return error;
};

/** The optional @stoprocent/noble and bleno installed, on a kernel without Bluetooth (no /sys/class/bluetooth). */
const REAL_LIBRARIES_WITHOUT_BLUETOOTH = (() => {
  const require = createRequire(import.meta.url);
  try {
    require.resolve("@stoprocent/noble/lib/noble.js");
    require.resolve("@stoprocent/bleno/lib/bleno.js");
  } catch {
    return needs(false, "needs the optional @stoprocent/noble and bleno installed");
  }
  return needs(
    !existsSync("/sys/class/bluetooth"),
    "needs a machine without Bluetooth (this one has /sys/class/bluetooth)",
  );
})();

describe("hci radio failure modes", () => {
  it("noble/bleno not installed: says which package and how to install it", async () => {
    await expectBothFail(
      {
        importModule: async (specifier) => {
          throw missing(specifier.split("/").slice(0, 2).join("/"));
        },
      },
      "E_RADIO_MISSING",
      /not installed.*npm install @stoprocent\/(noble|bleno).*use the sim radio/,
    );
  });

  it("native module not built (no compiler at install): says to install build tools and rebuild", async () => {
    await expectBothFail(
      {
        probe: probe(),
        importModule: async (specifier) => {
          if (specifier.includes("hci-socket"))
            throw new Error("Cannot find module '@stoprocent/bluetooth-hci-socket'");
          return import(specifier);
        },
      },
      "E_RADIO_NATIVE",
      /not built for this machine.*build-essential.*npm rebuild/,
    );
    await expectBothFail(
      {
        probe: probe(),
        importModule: async (specifier) => {
          if (specifier.includes("hci-socket"))
            throw new Error(
              "No native build was found for platform=linux arch=riscv64 runtime=node abi=115",
            );
          return import(specifier);
        },
      },
      "E_RADIO_NATIVE",
      /build-essential/,
    );
  });

  it("no adapter: no /sys/class/bluetooth, or no hciN of that number", async () => {
    await expectBothFail(
      { probe: probe({ adapters: () => undefined }) },
      "E_RADIO_NO_ADAPTER",
      /no Bluetooth adapter found.*bluetoothctl list/,
    );
    await expectBothFail(
      { deviceId: 2, probe: probe({ adapters: () => ["hci0", "hci1"] }) },
      "E_RADIO_NO_ADAPTER",
      /no adapter hci2: this machine has hci0, hci1, so use deviceId 0/,
    );
  });

  it("no permission: names the capabilities and the setcap line", async () => {
    const setcap =
      /CAP_NET_RAW and CAP_NET_ADMIN.*sudo setcap cap_net_raw,cap_net_admin\+eip \$\(readlink -f \$\(which node\)\)/;
    await expectBothFail(
      { probe: probe({ hasRawSocketPermission: () => false }) },
      "E_RADIO_PERMISSION",
      setcap,
    );
    // The library's own verdict, with fake bindings that say "unauthorized".
    const medium = new SimMedium();
    const controller = new FakeController(medium, medium.addNode(0, 0));
    await expectBothFail(
      {
        probe: probe(),
        nobleBindings: () => new FakeNobleBindings(medium, 0, { initialState: "unauthorized" }),
        blenoBindings: () => new FakeBlenoBindings(controller, { initialState: "unauthorized" }),
      },
      "E_RADIO_PERMISSION",
      setcap,
    );
  });

  it("adapter powered off: says how to unblock and power it", async () => {
    const medium = new SimMedium();
    const controller = new FakeController(medium, medium.addNode(0, 0));
    await expectBothFail(
      {
        deviceId: 0,
        probe: probe(),
        nobleBindings: () => new FakeNobleBindings(medium, 0, { initialState: "poweredOff" }),
        blenoBindings: () => new FakeBlenoBindings(controller, { initialState: "poweredOff" }),
      },
      "E_RADIO_POWERED_OFF",
      /hci0 is powered off or blocked.*rfkill unblock bluetooth/,
    );
  });

  itWith(REAL_LIBRARIES_WITHOUT_BLUETOOTH)(
    "the real noble and bleno on a machine whose kernel refuses Bluetooth sockets: fail fast, print nothing, leave nothing running",
    () => {
      // A child process, so that a hang or a late uncaught exception shows as such.
      const script = `
      import { HciRadio } from "./dist/src/radio/hci/hci-radio.js";
      import { systemTimers } from "./dist/src/radio/hci/timers.js";
      process.on("uncaughtException", (e) => { console.log("UNCAUGHT " + e.message); process.exit(9); });
      const probe = { adapters: () => ["hci0"], hasRawSocketPermission: () => true, usesKernelAdapters: true };
      const radio = new HciRadio({ probe, timers: systemTimers });
      for (const part of ["scanner", "advertiser"]) {
        try {
          if (part === "scanner") await radio.scanner.start();
          else await radio.advertiser.start({ source: { at: () => { throw new Error("not reached"); } } });
          console.log(part + " STARTED");
        } catch (e) { console.log(part + " " + e.code + " " + e.message); }
      }
      await radio.stop();
      setTimeout(() => console.log("ALIVE AFTER 2.5 s"), 2500).unref();
    `;
      const started = Date.now();
      const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
        cwd: new URL("../..", import.meta.url).pathname,
        encoding: "utf8",
        timeout: 15_000,
      });
      expect(result.stdout).toMatch(/scanner E_RADIO_UNSUPPORTED/);
      expect(result.stdout).toMatch(/advertiser E_RADIO_UNSUPPORTED/);
      expect(result.stdout).not.toMatch(/UNCAUGHT|STARTED|warning/i);
      expect(result.status).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
    },
  );
});

describe("LibraryGuard", () => {
  it("contains a throwing adapter poll, removes the library's signal handlers, and ends polling at stop", () => {
    const errors: Error[] = [];
    const guard = new LibraryGuard((e) => errors.push(e));
    let polls = 0;
    const sigint = () => {};
    interface FakeBindings {
      _hci: { pollIsDevUp(): void };
      _sigIntHandler: () => void;
      init(this: FakeBindings): void;
      onStateChange(): void;
    }
    const bindings: FakeBindings = {
      _hci: {
        pollIsDevUp() {
          polls++;
          throw new Error("Address family not supported by protocol");
        },
      },
      _sigIntHandler: sigint,
      init() {
        process.on("SIGINT", sigint);
        this._hci.pollIsDevUp();
      },
      onStateChange() {
        console.log("Bleno warning: adapter does not support Bluetooth Low Energy");
      },
    };
    guard.guard(bindings);
    const logged: unknown[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => logged.push(args);
    try {
      bindings.init();
      bindings.onStateChange();
    } finally {
      console.log = log;
    }
    expect(logged).toEqual([]);
    expect(process.listeners("SIGINT")).not.toContain(sigint);
    expect(errors.map((e) => e.message)).toEqual(["Address family not supported by protocol"]);
    guard.stop(() => {
      throw new Error("stop() on a dead socket");
    });
    bindings._hci.pollIsDevUp();
    expect(polls).toBe(1);
    expect(systemTimers.nowMs()).toBeGreaterThan(0);
  });
});
