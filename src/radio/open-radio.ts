/**
 * Opening a radio by name: kept at this path for its importers; the list of back-ends, with
 * what each can do, is `radio-backends.ts`.
 */
export { openRadio, type RadioOptions, radioBackends } from "./radio-backends.js";
