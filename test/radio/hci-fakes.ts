/**
 * Fake bindings for noble and bleno over a `SimMedium`, so that the real noble and bleno
 * classes (`new Noble(bindings)`, `new Bleno(bindings)`) drive the HCI back-end in tests:
 * - `FakeController` is the HCI socket bleno writes to: it parses the LE advertising commands,
 *   answers each with a Command Complete event, and advertises on the medium;
 * - `FakeBlenoBindings` does what bleno's HCI bindings do, through that socket;
 * - `FakeNobleBindings` listens on the medium and reports what it hears, parsed as noble's
 *   HCI layer does (`discover`) or raw (`_hci` `leAdvertisingReport`);
 * - `fakeHciWorld` is a medium of HCI radios over those fakes, on a virtual clock.
 */
import { EventEmitter } from "node:events";
import { parseAdvertisingData } from "../../src/ble/advertising-data.js";
import {
  commandCompleteEvent,
  leSetAdvertisingData,
  leSetAdvertisingEnable,
  OPCODE,
  OWN_ADDRESS_RANDOM,
} from "../../src/radio/hci/hci-commands.js";
import type { HciRadio } from "../../src/radio/hci/hci-radio.js";
import type { HciRadioOptions } from "../../src/radio/hci/hci-settings.js";
import type { Timers } from "../../src/radio/hci/timers.js";
import { openRadio } from "../../src/radio/radio-backends.js";
import { SimMedium } from "../../src/radio/sim/sim-medium.js";
import type { VirtualScheduler } from "../../src/radio/sim/virtual-scheduler.js";

/** Timers on a virtual scheduler; a cleared timer stays queued but does nothing. */
export function virtualTimers(scheduler: VirtualScheduler): Timers {
  return {
    nowMs: () => scheduler.nowMs(),
    setTimeout(task, delayMs) {
      const handle = { cancelled: false };
      scheduler.at(scheduler.nowMs() + delayMs, () => {
        if (!handle.cancelled) task();
      });
      return handle;
    },
    clearTimeout(handle) {
      if (handle) (handle as { cancelled: boolean }).cancelled = true;
    },
  };
}

const STATUS_OK = 0x00;
const STATUS_UNKNOWN_COMMAND = 0x01;
const STATUS_COMMAND_DISALLOWED = 0x0c;
const STATUS_INVALID_PARAMETERS = 0x12;

export class FakeController extends EventEmitter {
  readonly publicAddress = Uint8Array.from([0xb8, 0x27, 0xeb, 0x00, 0x00, 0x01]);
  randomAddress: Uint8Array | undefined;
  ownAddressType = 0;
  advertisingType = 0;
  intervalMs = 100;
  data = new Uint8Array(0);
  enabled = false;
  /** Every command's opcode, in order. */
  readonly opcodes: number[] = [];
  /** Answer LE Set Random Address with "unknown command", as a controller without it would. */
  rejectRandomAddress = false;
  /** Answer LE Set Advertising Parameters with "invalid parameters". */
  rejectParameters = false;
  private generation = 0;

  constructor(
    private readonly medium: SimMedium,
    private readonly node: number,
  ) {
    super();
  }

  /** Executes one H4 command packet and answers asynchronously; returns the status. */
  write(packet: Uint8Array): number {
    if (packet[0] !== 0x01) return STATUS_UNKNOWN_COMMAND;
    const opcode = packet[1] | (packet[2] << 8);
    const p = packet.subarray(4, 4 + packet[3]);
    this.opcodes.push(opcode);
    let status = STATUS_OK;
    switch (opcode) {
      case OPCODE.leSetRandomAddress:
        if (this.rejectRandomAddress) status = STATUS_UNKNOWN_COMMAND;
        else if (this.enabled) status = STATUS_COMMAND_DISALLOWED;
        else this.randomAddress = Uint8Array.from(p).reverse();
        break;
      case OPCODE.leSetAdvertisingParameters:
        if (this.rejectParameters) status = STATUS_INVALID_PARAMETERS;
        else if (this.enabled) status = STATUS_COMMAND_DISALLOWED;
        else {
          this.intervalMs = (p[0] | (p[1] << 8)) * 0.625;
          this.advertisingType = p[4];
          this.ownAddressType = p[5];
        }
        break;
      case OPCODE.leSetAdvertisingData:
        this.data = Uint8Array.from(p.subarray(1, 1 + p[0]));
        break;
      case OPCODE.leSetScanResponseData:
        break;
      case OPCODE.leSetAdvertisingEnable:
        if (p[0] === 1 && this.ownAddressType === OWN_ADDRESS_RANDOM && !this.randomAddress)
          status = STATUS_INVALID_PARAMETERS;
        else this.setEnabled(p[0] === 1);
        break;
      default:
        status = STATUS_UNKNOWN_COMMAND;
    }
    const answer = Buffer.from(commandCompleteEvent(opcode, status));
    process.nextTick(() => this.emit("data", answer));
    return status;
  }

  /** The address advertisements go out from. */
  address(): Uint8Array {
    return this.ownAddressType === OWN_ADDRESS_RANDOM && this.randomAddress
      ? this.randomAddress
      : this.publicAddress;
  }

  private setEnabled(enable: boolean): void {
    if (enable === this.enabled) return;
    this.enabled = enable;
    const generation = ++this.generation;
    if (!enable) return;
    const scheduler = this.medium.scheduler;
    const event = () => {
      if (generation !== this.generation) return;
      const atMs = scheduler.nowMs();
      const payload = this.data;
      const address = this.address();
      for (const [i, channel] of [37, 38, 39].entries())
        this.medium.transmit(this.node, atMs + i * 0.4, channel, 0, payload, address);
      scheduler.at(atMs + this.intervalMs + this.medium.random.float() * 10, event);
    };
    scheduler.at(scheduler.nowMs(), event);
  }
}

/** What bleno's HCI bindings do, over a `FakeController`. */
export class FakeBlenoBindings extends EventEmitter {
  readonly _hci: { _socket: FakeController } | undefined;
  stopped = false;

  constructor(
    private readonly controller: FakeController,
    private readonly options: { initialState?: string; exposeHci?: boolean } = {},
  ) {
    super();
    this._hci = options.exposeHci === false ? undefined : { _socket: controller };
  }

  init(): void {
    process.nextTick(() => this.emit("stateChange", this.options.initialState ?? "poweredOn"));
  }

  startAdvertisingWithEIRData(advertisementData: Buffer, _scanData: Buffer): void {
    this.controller.write(leSetAdvertisingData(advertisementData));
    const status = this.controller.write(leSetAdvertisingEnable(true));
    process.nextTick(() =>
      this.emit("advertisingStart", status === 0 ? null : new Error(`HCI status ${status}`)),
    );
  }

  stopAdvertising(): void {
    this.controller.write(leSetAdvertisingEnable(false));
    process.nextTick(() => this.emit("advertisingStop"));
  }

  disconnect(): void {}

  stop(): void {
    this.stopped = true;
    this.controller.write(leSetAdvertisingEnable(false));
  }
}

function hexAddress(address: Uint8Array): string {
  return [...address].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** noble's `peripheral.advertisement`, parsed from the bytes as noble's HCI layer does. */
function nobleAdvertisement(payload: Uint8Array) {
  const advertisement = {
    localName: undefined as string | undefined,
    txPowerLevel: undefined as number | undefined,
    manufacturerData: undefined as Buffer | undefined,
    serviceData: [] as { uuid: string; data: Buffer }[],
    serviceUuids: [] as string[],
    serviceSolicitationUuids: [] as string[],
  };
  for (const s of parseAdvertisingData(payload)) {
    if (s.type === "serviceUuids16")
      advertisement.serviceUuids.push(...s.uuids.map((u) => u.toString(16)));
    else if (s.type === "serviceData16")
      advertisement.serviceData.push({
        uuid: s.uuid.toString(16).padStart(4, "0"),
        data: Buffer.from(s.data),
      });
    else if (s.type === "manufacturerData")
      advertisement.manufacturerData = Buffer.from([
        s.companyId & 0xff,
        s.companyId >> 8,
        ...s.data,
      ]);
    else if (s.type === "txPower") advertisement.txPowerLevel = s.txPowerDbm;
    else if (s.type === "localName") advertisement.localName = s.name;
  }
  return advertisement;
}

/** What noble's HCI bindings do: a scanner on the medium (channel 37 only, as one radio hears). */
export class FakeNobleBindings extends EventEmitter {
  _hci: EventEmitter | undefined;
  scanning = false;
  stopped = false;

  constructor(
    private readonly medium: SimMedium,
    private readonly node: number,
    private readonly options: { raw?: boolean; initialState?: string } = {},
  ) {
    super();
  }

  start(): void {
    if (this.options.raw) this._hci = new EventEmitter();
    process.nextTick(() => this.emit("stateChange", this.options.initialState ?? "poweredOn"));
  }

  /** The adapter changes state (reset, unplugged, back). */
  setState(state: string): void {
    if (state !== "poweredOn") this.listen(false);
    this.emit("stateChange", state);
  }

  startScanning(_uuids: string[], _allowDuplicates: boolean): void {
    this.listen(true);
    process.nextTick(() => this.emit("scanStart", false));
  }

  stopScanning(): void {
    this.listen(false);
    process.nextTick(() => this.emit("scanStop"));
  }

  stop(): void {
    this.stopped = true;
    this.listen(false);
  }

  private listen(on: boolean): void {
    this.scanning = on;
    this.medium.listen(
      this.node,
      on
        ? (pdu) => {
            if (pdu.channel !== 37) return;
            const address = hexAddress(pdu.address);
            if (this._hci) {
              this._hci.emit(
                "leAdvertisingReport",
                0,
                3,
                address,
                "random",
                Buffer.from(pdu.payload),
                pdu.rssiDbm,
              );
            } else {
              this.emit(
                "discover",
                address.replace(/:/g, ""),
                address,
                "random",
                false,
                nobleAdvertisement(pdu.payload),
                pdu.rssiDbm,
                false,
              );
            }
          }
        : undefined,
    );
  }
}

/** When a `fakeHciWorld` starts, ms since the Unix epoch. */
export const FAKE_START_MS = Date.UTC(2021, 0, 4, 9);
/** Virtual time moves in steps, with the event loop run between them (noble/bleno callbacks). */
const STEP_MS = 100;

export interface FakeHciNode {
  radio: HciRadio;
  controller: FakeController;
  noble: FakeNobleBindings[];
}

/**
 * A medium where `add(x)` opens an HCI radio (through the registry) at (x, 0) over fake
 * bindings; `advance` runs the virtual clock and the event loop in turns.
 */
export function fakeHciWorld(options: { raw?: boolean; hci?: Partial<HciRadioOptions> } = {}) {
  const medium = new SimMedium({ startMs: FAKE_START_MS, seed: 3 });
  const timers = virtualTimers(medium.scheduler);
  const add = async (x: number): Promise<FakeHciNode> => {
    const node = medium.addNode(x, 0);
    const controller = new FakeController(medium, node);
    const noble: FakeNobleBindings[] = [];
    const radio = (await openRadio("hci", {
      hci: {
        timers,
        nobleBindings: () => {
          const bindings = new FakeNobleBindings(medium, node, { raw: options.raw });
          noble.push(bindings);
          return bindings;
        },
        blenoBindings: () => new FakeBlenoBindings(controller),
        ...options.hci,
      },
    })) as HciRadio;
    return { radio, controller, noble };
  };
  const advance = async (ms: number) => {
    const endMs = medium.scheduler.nowMs() + ms;
    while (medium.scheduler.nowMs() < endMs) {
      medium.scheduler.runUntil(Math.min(endMs, medium.scheduler.nowMs() + STEP_MS));
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { medium, add, advance, nowMs: () => medium.scheduler.nowMs() };
}
