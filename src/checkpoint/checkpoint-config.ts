/**
 * The checkpoint's JSON configuration file (`--config FILE`); command-line options override it.
 *
 * {
 *   "site": "library", "checkpoint": "entrance-1", "mqtt": "mqtt://collector:1883",
 *   "protocols": ["gaen", "bluezone"],
 *   "scan": {"windowMs": 4000, "intervalMs": 10000},     // omit for continuous scanning
 *   "scanPeriodS": 60,    // longest scan instance of the windows; 0: the EN API's own (default 60)
 *   "retentionDays": 14, "research": false, "storeAddresses": false,
 *   "beacon": {"protocol": "gaen", "intervalMs": 250, "txPowerDbm": -8},
 *   "hci": 0, "rxRssiCorrectionDb": 0,
 *   "mqttUsername": "entrance-1", "mqttPasswordFile": "mqtt-password",   // see docs/fleet.md
 *   "tls": {"ca": "ca.crt", "cert": "entrance-1.crt", "key": "entrance-1.key"},
 *   "receiptKey": "collector.pub"
 * }
 *
 * File paths (mqttPasswordFile, tls.*, receiptKey) are relative to the configuration file's folder.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ConfigError } from "../core/errors.js";
import { parseScanPeriodS } from "../exposure/exposure-window-builder.js";
import { checkInputFile } from "../io/read-input-file.js";
import { PROTOCOLS, type Protocol } from "../protocols/rolling-id-scheme.js";

export interface CheckpointConfig {
  site?: string;
  checkpoint?: string;
  mqtt?: string;
  protocols?: Protocol[];
  scan?: { windowMs: number; intervalMs: number };
  /** Longest scan instance of the stored windows, s (0: the EN API's own scan instances). */
  scanPeriodS?: number;
  retentionDays?: number;
  research?: boolean;
  storeAddresses?: boolean;
  beacon?: { protocol: Protocol; intervalMs?: number; txPowerDbm?: number };
  hci?: number;
  rxRssiCorrectionDb?: number;
  /** The broker user name (overridden by --mqtt-username and PROXKIT_MQTT_USERNAME). */
  mqttUsername?: string;
  /** A file holding the broker password on its first line. */
  mqttPasswordFile?: string;
  /** TLS: the CA of the broker's certificate, and a client certificate with its key. */
  tls?: { ca?: string; cert?: string; key?: string };
  /** The collector's Ed25519 public key, or the fleet secret, that checks receipts. */
  receiptKey?: string;
}

const KEYS = [
  "site",
  "checkpoint",
  "mqtt",
  "protocols",
  "scan",
  "scanPeriodS",
  "retentionDays",
  "research",
  "storeAddresses",
  "beacon",
  "hci",
  "rxRssiCorrectionDb",
  "mqttUsername",
  "mqttPasswordFile",
  "tls",
  "receiptKey",
];

const TLS_KEYS = ["ca", "cert", "key"] as const;

/** Validates a parsed configuration; `where` names it in errors. */
export function validateCheckpointConfig(doc: unknown, where = "config"): CheckpointConfig {
  const fail = (what: string): never => {
    throw new ConfigError(`${where}: ${what}`, "E_CHECKPOINT_CONFIG");
  };
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) fail("must be a JSON object");
  const o = doc as Record<string, unknown>;
  for (const key of Object.keys(o))
    if (!KEYS.includes(key)) fail(`unknown key "${key}" (known: ${KEYS.join(", ")})`);
  const text = (key: string): string | undefined => {
    if (o[key] === undefined) return undefined;
    if (typeof o[key] !== "string" || o[key] === "") fail(`"${key}" must be a non-empty string`);
    return o[key] as string;
  };
  const number = (v: unknown, what: string, min: number, max: number): number => {
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max)
      fail(`${what} must be a number in ${min}..${max}, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const bool = (key: string): boolean | undefined => {
    if (o[key] === undefined) return undefined;
    if (typeof o[key] !== "boolean") fail(`"${key}" must be true or false`);
    return o[key] as boolean;
  };
  const protocol = (v: unknown, what: string): Protocol => {
    if (!PROTOCOLS.includes(v as Protocol))
      fail(`${what} must be one of ${PROTOCOLS.join(", ")}, got ${JSON.stringify(v)}`);
    return v as Protocol;
  };
  const config: CheckpointConfig = {};
  const site = text("site");
  if (site !== undefined) config.site = site;
  const checkpoint = text("checkpoint");
  if (checkpoint !== undefined) config.checkpoint = checkpoint;
  const mqtt = text("mqtt");
  if (mqtt !== undefined) config.mqtt = mqtt;
  if (o.protocols !== undefined) {
    if (!Array.isArray(o.protocols) || o.protocols.length === 0)
      fail(`"protocols" must be a non-empty list`);
    config.protocols = (o.protocols as unknown[]).map((p, i) => protocol(p, `protocols[${i}]`));
  }
  if (o.scan !== undefined) {
    const s = o.scan as Record<string, unknown>;
    if (typeof s !== "object" || s === null) fail(`"scan" must be an object`);
    const intervalMs = number(s.intervalMs, "scan.intervalMs", 1, 3_600_000);
    const windowMs = number(s.windowMs, "scan.windowMs", 1, intervalMs);
    config.scan = { windowMs, intervalMs };
  }
  if (o.scanPeriodS !== undefined) {
    if (typeof o.scanPeriodS !== "number") fail(`"scanPeriodS" must be a number of seconds`);
    parseScanPeriodS(o.scanPeriodS, `${where}: "scanPeriodS"`);
    config.scanPeriodS = o.scanPeriodS as number;
  }
  if (o.retentionDays !== undefined)
    config.retentionDays = number(o.retentionDays, "retentionDays", 1, 3650);
  const research = bool("research");
  if (research !== undefined) config.research = research;
  const storeAddresses = bool("storeAddresses");
  if (storeAddresses !== undefined) config.storeAddresses = storeAddresses;
  if (o.beacon !== undefined) {
    const b = o.beacon as Record<string, unknown>;
    if (typeof b !== "object" || b === null) fail(`"beacon" must be an object`);
    config.beacon = { protocol: protocol(b.protocol, "beacon.protocol") };
    if (b.intervalMs !== undefined)
      config.beacon.intervalMs = number(b.intervalMs, "beacon.intervalMs", 20, 10_240);
    if (b.txPowerDbm !== undefined)
      config.beacon.txPowerDbm = number(b.txPowerDbm, "beacon.txPowerDbm", -127, 20);
  }
  if (o.hci !== undefined) config.hci = number(o.hci, "hci", 0, 255);
  if (o.rxRssiCorrectionDb !== undefined)
    config.rxRssiCorrectionDb = number(o.rxRssiCorrectionDb, "rxRssiCorrectionDb", -50, 50);
  const mqttUsername = text("mqttUsername");
  if (mqttUsername !== undefined) config.mqttUsername = mqttUsername;
  const mqttPasswordFile = text("mqttPasswordFile");
  if (mqttPasswordFile !== undefined) config.mqttPasswordFile = mqttPasswordFile;
  const receiptKey = text("receiptKey");
  if (receiptKey !== undefined) config.receiptKey = receiptKey;
  if (o.tls !== undefined) {
    const t = o.tls as Record<string, unknown>;
    if (typeof t !== "object" || t === null || Array.isArray(t))
      fail(
        `"tls" must be an object like {"ca": "ca.crt", "cert": "client.crt", "key": "client.key"}`,
      );
    config.tls = {};
    for (const key of Object.keys(t)) {
      if (!(TLS_KEYS as readonly string[]).includes(key))
        fail(`unknown key "tls.${key}" (known: ${TLS_KEYS.join(", ")})`);
      if (typeof t[key] !== "string" || t[key] === "") fail(`"tls.${key}" must be a file name`);
      config.tls[key as (typeof TLS_KEYS)[number]] = t[key] as string;
    }
  }
  return config;
}

/** The configuration with its file paths made relative to `folder` (the config file's). */
export function resolveConfigPaths(config: CheckpointConfig, folder: string): CheckpointConfig {
  const at = (path: string | undefined) => (path === undefined ? undefined : resolve(folder, path));
  const resolved: CheckpointConfig = { ...config };
  if (config.mqttPasswordFile !== undefined)
    resolved.mqttPasswordFile = at(config.mqttPasswordFile);
  if (config.receiptKey !== undefined) resolved.receiptKey = at(config.receiptKey);
  if (config.tls !== undefined)
    resolved.tls = Object.fromEntries(
      Object.entries(config.tls).map(([key, path]) => [key, at(path)]),
    ) as CheckpointConfig["tls"];
  return resolved;
}

/**
 * Reads and validates a checkpoint's JSON configuration; messages call the file `what` and its
 * path (the CLI passes its flag, "--config").
 */
export function loadCheckpointConfig(path: string, what = "configuration"): CheckpointConfig {
  // A FIFO, a device or a huge file is refused from stat alone, before it is opened.
  checkInputFile(path, { what, code: "E_CHECKPOINT_CONFIG" });
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `cannot read ${what} ${path}: ${code === "ENOENT" ? "no such file" : (cause as Error).message}`,
      "E_CHECKPOINT_CONFIG",
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(
      `${what} ${path} is not valid JSON: ${(cause as Error).message}`,
      "E_CHECKPOINT_CONFIG",
    );
  }
  return resolveConfigPaths(
    validateCheckpointConfig(doc, `${what} ${path}`),
    dirname(resolve(path)),
  );
}
