/** proxkit's public library API. */
export * from "./ble/index.js";
export { type Clock, ManualClock, systemClock } from "./core/clock.js";
export * from "./core/errors.js";
export { bytesEqual, fromHex, toHex } from "./core/hex.js";
export { cryptoRandom, type Random, SeededRandom } from "./core/random.js";
export * from "./protocols/bluezone.js";
export * from "./protocols/dp3t.js";
export * from "./protocols/gaen.js";
export * from "./protocols/key-store.js";
export * from "./protocols/rolling-id-scheme.js";
export * from "./protocols/rotating-advertiser.js";
export { bluezoneScheme, dp3tScheme, gaenScheme, schemeFor } from "./protocols/schemes.js";
