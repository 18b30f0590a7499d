/**
 * Why a Bluetooth adapter is not usable, in one sentence with the fix. The libraries only say
 * "unsupported" or "unauthorized" (and print banners); the system says more: which adapters
 * exist (/sys/class/bluetooth) and whether this process may open raw HCI sockets
 * (CAP_NET_RAW and CAP_NET_ADMIN, /proc/self/status).
 */
import { readdirSync, readFileSync } from "node:fs";
import { RadioError } from "../../core/errors.js";
import { mention, optionText } from "../../core/option-text.js";

export interface AdapterProbe {
  /** Adapter names ("hci0", ...), or `undefined` when the kernel has no Bluetooth at all. */
  adapters(): string[] | undefined;
  /** True when this process may open raw HCI sockets. */
  hasRawSocketPermission(): boolean;
  /** False where adapters are reached without the kernel (USB/UART drivers) or not on Linux. */
  readonly usesKernelAdapters: boolean;
}

const CAP_NET_ADMIN = 12n;
const CAP_NET_RAW = 13n;

export const SETCAP_FIX = "sudo setcap cap_net_raw,cap_net_admin+eip $(readlink -f $(which node))";

export const systemProbe: AdapterProbe = {
  adapters() {
    try {
      return readdirSync("/sys/class/bluetooth")
        .filter((name) => /^hci\d+$/.test(name))
        .sort();
    } catch {
      return undefined;
    }
  },
  hasRawSocketPermission() {
    try {
      const status = readFileSync("/proc/self/status", "utf8");
      const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
      if (hex === undefined) return true;
      const caps = BigInt(`0x${hex}`);
      return ((caps >> CAP_NET_RAW) & 1n) === 1n && ((caps >> CAP_NET_ADMIN) & 1n) === 1n;
    } catch {
      return true;
    }
  },
  usesKernelAdapters:
    process.platform === "linux" &&
    !process.env.BLUETOOTH_HCI_SOCKET_UART_PORT &&
    !process.env.BLUETOOTH_HCI_SOCKET_FORCE_UART &&
    !process.env.BLUETOOTH_HCI_SOCKET_FORCE_USB,
};

/** "the sim radio", in a message that tells the user to use it instead. */
export const THE_SIM_RADIO = mention("radio", { value: "sim", text: "the sim radio" });

function adapterName(deviceId: number | undefined): string {
  return deviceId === undefined ? "the Bluetooth adapter" : `adapter hci${deviceId}`;
}

/** An error for a missing adapter or permission found before the library is even started. */
export function checkAdapterPresent(
  deviceId: number | undefined,
  probe: AdapterProbe,
): RadioError | undefined {
  if (!probe.usesKernelAdapters) return undefined;
  const adapters = probe.adapters();
  if (adapters === undefined || adapters.length === 0) {
    return new RadioError(
      optionText`no Bluetooth adapter found (nothing in /sys/class/bluetooth): plug in or enable an adapter (on a Raspberry Pi, remove dtoverlay=disable-bt and run \`sudo rfkill unblock bluetooth\`), check it with \`bluetoothctl list\`, or use ${THE_SIM_RADIO}`,
      "E_RADIO_NO_ADAPTER",
    );
  }
  if (deviceId !== undefined && !adapters.includes(`hci${deviceId}`)) {
    return new RadioError(
      optionText`there is no adapter hci${deviceId}: this machine has ${adapters.join(", ")}, so use ${mention("deviceId", { value: adapters[0].slice(3) })}`,
      "E_RADIO_NO_ADAPTER",
    );
  }
  if (!probe.hasRawSocketPermission()) return permissionError();
  return undefined;
}

export function permissionError(): RadioError {
  return new RadioError(
    `no permission to use the Bluetooth adapter (raw HCI sockets need CAP_NET_RAW and CAP_NET_ADMIN): run \`${SETCAP_FIX}\` once, or run proxkit as root`,
    "E_RADIO_PERMISSION",
  );
}

/** The error for an adapter that did not reach "poweredOn"; `state` is the library's last word. */
export function adapterNotReady(
  state: string,
  deviceId: number | undefined,
  waitedMs: number,
  probe: AdapterProbe,
): RadioError {
  if (state === "unauthorized") return permissionError();
  const present = checkAdapterPresent(deviceId, probe);
  if (present) return present;
  const name = adapterName(deviceId);
  const hci = deviceId === undefined ? "hci0" : `hci${deviceId}`;
  if (state === "poweredOff") {
    return new RadioError(
      `${name} is powered off or blocked: run \`sudo rfkill unblock bluetooth && sudo hciconfig ${hci} up\` (or \`bluetoothctl power on\`)`,
      "E_RADIO_POWERED_OFF",
    );
  }
  if (state === "unsupported") {
    return new RadioError(
      optionText`${name} cannot be used for Bluetooth Low Energy (the kernel refused its HCI socket, or it predates Bluetooth 4.0): pick another adapter with ${mention("deviceId", { value: "N" })}, or check \`sudo btmgmt info\``,
      "E_RADIO_UNSUPPORTED",
    );
  }
  return new RadioError(
    `${name} did not become ready within ${(waitedMs / 1000).toFixed(1)} s (state "${state}"): check \`sudo btmgmt info\` and \`dmesg | grep -i blue\`, then retry`,
    "E_RADIO_NOT_READY",
  );
}
