/** BLE advertising: the AD codec, the protocols' advertisements, classification, addresses. */
export * from "./advertising-data.js";
export * from "./bluezone-advertisement.js";
export * from "./classify-advertisement.js";
export * from "./dp3t-advertisement.js";
export * from "./gaen-advertisement.js";
export * from "./random-address.js";
