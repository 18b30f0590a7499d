/**
 * Loads noble (scanning) or bleno (advertising) on first use, never at import time: they are
 * optional dependencies with a native HCI socket module, and a machine without them must still
 * run everything else. `@stoprocent/*` is preferred; `@abandonware/*` is accepted when it is
 * the only one installed. A failure becomes a `RadioError` with one sentence and the fix.
 */
// No type of the optional libraries may appear here: this file's declarations reach the public
// types (RadioOptions.hci), which must type-check for a user who installed without them.
import { RadioError } from "../../core/errors.js";
import { optionText } from "../../core/option-text.js";
import { THE_SIM_RADIO } from "./adapter-diagnosis.js";

/** How a module is imported; tests pass their own to simulate a missing or broken install. */
export type ImportModule = (specifier: string) => Promise<unknown>;

export const importModule: ImportModule = (specifier) => import(specifier);

export type BleRole = "noble" | "bleno";

const VENDORS = ["@stoprocent", "@abandonware"] as const;
const BUILD_FIX =
  "install build tools (`sudo apt install build-essential python3`) and run `npm rebuild @stoprocent/noble @stoprocent/bleno @stoprocent/bluetooth-hci-socket`";

/** Options the HCI bindings of both libraries take. */
export interface HciBindingsOptions {
  deviceId?: number;
}

export interface BleLibrary<T> {
  readonly packageName: string;
  /** A new instance over `bindings`, or over the library's own HCI socket bindings. */
  create(bindings: unknown): Promise<T>;
}

function moduleDefault(module: unknown): unknown {
  const m = module as { default?: unknown };
  return m.default ?? m;
}

function isMissing(error: unknown, specifier: string): boolean {
  const e = error as NodeJS.ErrnoException;
  return (
    (e?.code === "ERR_MODULE_NOT_FOUND" || e?.code === "MODULE_NOT_FOUND") &&
    new RegExp(`['"]${specifier.replace(/[/.]/g, "\\$&")}['"/]`).test(e.message)
  );
}

/**
 * Imports `specifier` of `packageName`: undefined if the package is not installed, a RadioError
 * if it is but cannot load.
 */
async function loadIfInstalled(
  load: ImportModule,
  specifier: string,
  packageName: string,
): Promise<unknown | undefined> {
  try {
    return await load(specifier);
  } catch (error) {
    if (isMissing(error, packageName)) return undefined;
    throw nativeLoadError(packageName, error);
  }
}

/** The error to show for a library that is installed but cannot load its native part. */
export function nativeLoadError(packageName: string, error: unknown): RadioError {
  const message = error instanceof Error ? error.message : String(error);
  if (
    /bluetooth-hci-socket|No native build|\.node\b|NODE_MODULE_VERSION|invalid ELF|node-gyp|wrong ELF class|GLIBC/i.test(
      message,
    )
  ) {
    return new RadioError(
      `the native Bluetooth socket module of ${packageName} is missing or was not built for this machine (no prebuilt binary and no compiler when it was installed): ${BUILD_FIX}`,
      "E_RADIO_NATIVE",
      { cause: error },
    );
  }
  return new RadioError(`cannot load ${packageName}: ${message.split("\n")[0]}`, "E_RADIO_LOAD", {
    cause: error,
  });
}

/**
 * Finds and loads `role` ("noble" or "bleno"). With `stoprocent`, the class is taken from
 * `lib/` so that fake bindings can be handed to `new Noble(bindings)` without touching the
 * native module; the HCI socket bindings are loaded only when no bindings are given.
 */
export async function loadBleLibrary<T>(
  role: BleRole,
  options: HciBindingsOptions,
  load: ImportModule = importModule,
): Promise<BleLibrary<T>> {
  for (const vendor of VENDORS) {
    const packageName = `${vendor}/${role}`;
    if (vendor === "@stoprocent") {
      const module = await loadIfInstalled(load, `${packageName}/lib/${role}.js`, packageName);
      if (module === undefined) continue;
      const Class = moduleDefault(module) as new (bindings: unknown) => T;
      return {
        packageName,
        async create(bindings) {
          if (bindings === undefined) {
            let Bindings: new (options: HciBindingsOptions) => unknown;
            try {
              Bindings = moduleDefault(
                await load(`${packageName}/lib/hci-socket/bindings.js`),
              ) as typeof Bindings;
            } catch (error) {
              throw nativeLoadError(packageName, error);
            }
            bindings = new Bindings({
              ...(options.deviceId === undefined ? {} : { deviceId: options.deviceId }),
              // A Bluetooth 5 controller refuses legacy advertising commands (bleno's) once
              // extended scanning commands were used, and the reverse (Core spec v5.3 Vol 4
              // Part E §3.1.1): keep noble on the legacy ones too.
              ...(role === "noble" ? { extended: false } : {}),
            });
          }
          return new Class(bindings);
        },
      };
    }
    // @abandonware: the package's own entry point (its internals differ between versions).
    if (options.deviceId !== undefined) {
      // Read by the library when it opens its socket.
      process.env[`${role.toUpperCase()}_HCI_DEVICE_ID`] = String(options.deviceId);
    }
    const module = await loadIfInstalled(load, packageName, packageName);
    if (module === undefined) continue;
    return {
      packageName,
      async create(bindings) {
        if (bindings !== undefined)
          throw new RadioError(`${packageName} does not take injected bindings`, "E_RADIO_LOAD");
        return moduleDefault(module) as T;
      },
    };
  }
  const what = role === "noble" ? "scanning" : "advertising";
  throw new RadioError(
    optionText`the hci radio needs @stoprocent/${role} for ${what}, and it is not installed (it is an optional dependency): run \`npm install @stoprocent/${role}\` (on Linux with \`sudo apt install build-essential python3\` first), or use ${THE_SIM_RADIO}`,
    "E_RADIO_MISSING",
  );
}
