/**
 * The broker login, TLS and receipt-key options that `proxkit checkpoint` and `proxkit collect`
 * share: their declarations, and one function that reads the files they name (size-checked,
 * one-line errors) and says what to warn about at start.
 */
import { statSync } from "node:fs";
import type { Options } from "yargs";
import {
  connectionWarnings,
  type MqttConnectionOptions,
  mqttConnectOptions,
  redactMqttUrl,
} from "../checkpoint/mqtt-connection.js";
import type { ForwarderState } from "../checkpoint/mqtt-forwarder.js";
import {
  canSignReceipts,
  describeReceiptKey,
  loadReceiptKey,
  type ReceiptKey,
} from "../checkpoint/receipt-signature.js";
import { ConfigError } from "../core/errors.js";
import { readInputFile } from "../io/read-input-file.js";
import { inFlags } from "./option-names.js";

export type MqttRole = "checkpoint" | "collect";

/** The options as yargs parses them. */
export interface MqttCliArgs {
  "mqtt-username"?: string;
  "mqtt-password-file"?: string;
  ca?: string;
  cert?: string;
  key?: string;
  "receipt-key"?: string;
}

/** The same settings from a configuration file (the checkpoint's `--config`). */
export interface MqttConfigSettings {
  mqttUsername?: string;
  mqttPasswordFile?: string;
  tls?: { ca?: string; cert?: string; key?: string };
  receiptKey?: string;
}

const CLI_KEYS = [
  "mqtt-username",
  "mqtt-password-file",
  "ca",
  "cert",
  "key",
  "receipt-key",
] as const;

/** The yargs declarations, for `.options(mqttSecurityOptions(role))`. */
export function mqttSecurityOptions(role: MqttRole): Record<string, Options> {
  return {
    "mqtt-username": {
      type: "string",
      describe:
        role === "checkpoint"
          ? "Broker user name; with the shipped ACL it is the checkpoint's name (env PROXKIT_MQTT_USERNAME)"
          : "Broker user name, e.g. collector (env PROXKIT_MQTT_USERNAME)",
    },
    "mqtt-password-file": {
      type: "string",
      describe:
        "File whose first line is the broker password (mode 0600); or env PROXKIT_MQTT_PASSWORD. Not in the URL: ps shows it to every user",
    },
    ca: {
      type: "string",
      describe:
        "TLS (mqtts:// or wss://): the CA certificate (PEM) that signed the broker's certificate [default: the system's CAs]",
    },
    cert: {
      type: "string",
      describe: "TLS: client certificate (PEM), for a broker with require_certificate; with --key",
    },
    key: { type: "string", describe: "TLS: the client certificate's private key (PEM)" },
    "receipt-key": {
      type: "string",
      describe:
        role === "checkpoint"
          ? "The collector's Ed25519 public key (PREFIX.pub of proxkit collect keygen) or the fleet secret: windows leave the outbox only on receipts signed with it. Without it they leave at the broker's PUBACK and receipts are ignored"
          : "Sign receipts with this Ed25519 private key (PREFIX.key of proxkit collect keygen) or fleet secret; checkpoints hold the public key (or the same secret). Without it no receipts are sent, and checkpoints must delete at PUBACK (their default without a key)",
    },
  };
}

/** What `resolveMqttOptions` found. */
export interface ResolvedMqttOptions {
  readonly connection: MqttConnectionOptions;
  readonly receiptKey: ReceiptKey | undefined;
  /** The URL without credentials, for logs. */
  readonly displayUrl: string;
  /** Warnings and notes to print at start, one line each (no trailing newline). */
  readonly notices: string[];
}

function readPem(path: string, what: string): string {
  const text = readInputFile(path, { what, maxBytes: 1024 * 1024, code: "E_MQTT_TLS" });
  if (!text.includes("-----BEGIN"))
    throw new ConfigError(`${what} ${path} is not a PEM file (no -----BEGIN line)`, "E_MQTT_TLS");
  return text;
}

function readableByOthers(path: string, what: string): string | undefined {
  try {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077)
      return `warning: ${what} ${path} can be read by other users (mode 0${mode.toString(8)}); chmod 600 it`;
  } catch {
    // Read a moment ago; a race is not worth a second error.
  }
  return undefined;
}

/**
 * Resolves the login, TLS and receipt-key settings for a connection to `url`: command-line
 * options first, then the environment (PROXKIT_MQTT_USERNAME, PROXKIT_MQTT_PASSWORD), then
 * `config`, then credentials in the URL. Reads every file named; any problem is a one-line
 * `ConfigError`. Without a URL, returns undefined (and refuses these options on the command line).
 */
export function resolveMqttOptions(
  role: MqttRole,
  url: string | undefined,
  args: MqttCliArgs,
  config: MqttConfigSettings = {},
  options: { env?: NodeJS.ProcessEnv; receipts?: boolean } = {},
): ResolvedMqttOptions | undefined {
  if (url === undefined) {
    const given = CLI_KEYS.find((key) => args[key] !== undefined);
    if (given) throw new ConfigError(`--${given} needs --mqtt (the broker)`, "E_MQTT_OPTIONS");
    return undefined;
  }
  const env = options.env ?? process.env;
  const notices: string[] = [];
  const envText = (name: string) =>
    env[name] !== undefined && env[name] !== "" ? env[name] : undefined;

  const username = args["mqtt-username"] ?? envText("PROXKIT_MQTT_USERNAME") ?? config.mqttUsername;
  let password: string | undefined;
  const passwordFile = args["mqtt-password-file"];
  const envPassword = envText("PROXKIT_MQTT_PASSWORD");
  const configPasswordFile = config.mqttPasswordFile;
  if (
    passwordFile !== undefined ||
    (envPassword === undefined && configPasswordFile !== undefined)
  ) {
    const path = (passwordFile ?? configPasswordFile)!;
    const what = passwordFile !== undefined ? "--mqtt-password-file" : "mqttPasswordFile";
    const text = readInputFile(path, { what, maxBytes: 64 * 1024, code: "E_MQTT_AUTH" });
    password = text.split("\n")[0].replace(/\r$/, "");
    if (password === "")
      throw new ConfigError(
        `${what} ${path}: the first line (the password) is empty`,
        "E_MQTT_AUTH",
      );
    const loose = readableByOthers(path, what);
    if (loose) notices.push(loose);
  } else password = envPassword;

  const tlsPath = (key: "ca" | "cert" | "key") => {
    if (args[key] !== undefined) return { path: args[key], what: `--${key}` };
    const path = config.tls?.[key];
    return path === undefined ? undefined : { path, what: `tls.${key}` };
  };
  const connection: { -readonly [K in keyof MqttConnectionOptions]: MqttConnectionOptions[K] } = {};
  if (username !== undefined) connection.username = username;
  if (password !== undefined) connection.password = password;
  // The combination first (TLS material needs mqtts://, cert with key, password with user),
  // then the files.
  const sources = { ca: tlsPath("ca"), cert: tlsPath("cert"), key: tlsPath("key") };
  mqttConnectOptions(
    url,
    {
      ...connection,
      ...(sources.ca ? { ca: "" } : {}),
      ...(sources.cert ? { cert: "" } : {}),
      ...(sources.key ? { key: "" } : {}),
    },
    "--mqtt",
  );
  for (const key of ["ca", "cert", "key"] as const) {
    const source = sources[key];
    if (source) connection[key] = readPem(source.path, source.what);
  }
  if (sources.key) {
    const loose = readableByOthers(sources.key.path, sources.key.what);
    if (loose) notices.push(loose);
  }
  notices.push(...connectionWarnings(url, connection, "--mqtt").map(inFlags));

  const receiptKeyPath = args["receipt-key"] ?? config.receiptKey;
  const receiptWhat = args["receipt-key"] !== undefined ? "--receipt-key" : "receiptKey";
  let receiptKey: ReceiptKey | undefined;
  if (receiptKeyPath !== undefined) {
    receiptKey = loadReceiptKey(receiptKeyPath, receiptWhat);
    if (role === "checkpoint" && receiptKey.kind === "ed25519-private")
      throw new ConfigError(
        `${receiptWhat} ${receiptKeyPath} is the collector's private key: a checkpoint holds only the public key (PREFIX.pub, or openssl pkey -in ${receiptKeyPath} -pubout)`,
        "E_RECEIPT_KEY",
      );
    if (role === "collect" && !canSignReceipts(receiptKey))
      throw new ConfigError(
        `${receiptWhat} ${receiptKeyPath} is a public key, which cannot sign receipts: the collector needs the private key (PREFIX.key) or the fleet secret`,
        "E_RECEIPT_KEY",
      );
    if (receiptKey.kind !== "ed25519-public") {
      const loose = readableByOthers(receiptKeyPath, receiptWhat);
      if (loose) notices.push(loose);
    }
  } else if (role === "checkpoint")
    notices.push(
      "no --receipt-key: windows leave the outbox at the broker's PUBACK (a broker crash can lose them) and receipts are ignored; for end-to-end receipts give the collector's public key, --receipt-key collector.pub (proxkit collect keygen, docs/fleet.md)",
    );
  else if (options.receipts !== false)
    notices.push(
      "no --receipt-key: sending no receipts, so checkpoints must delete windows at the broker's PUBACK (their default without a key); for end-to-end receipts give --receipt-key collector.key (proxkit collect keygen, docs/fleet.md)",
    );
  if (receiptKey && options.receipts !== false && role === "collect")
    notices.push(`signing receipts with the ${describeReceiptKey(receiptKey)}`);
  return { connection, receiptKey, displayUrl: redactMqttUrl(url), notices };
}

/**
 * The checkpoint's log of its forwarder: rejected receipts (already rate-limited by the
 * forwarder) and connection failures, each distinct failure once until a connection succeeds.
 */
export function forwarderLogger(
  displayUrl: string,
  log: (line: string) => void,
): (state: ForwarderState) => void {
  let lastFailure: string | undefined;
  return (state) => {
    if (state.state === "receipt-rejected")
      log(
        `rejected ${state.count === 1 ? "a receipt" : `${state.count} receipts`} on ${state.topic}, deleting nothing: ${state.reason}`,
      );
    else if (state.state === "connected") {
      if (lastFailure !== undefined) log(`connected to ${displayUrl}`);
      lastFailure = undefined;
    } else if (state.state === "disconnected" && state.reason !== lastFailure) {
      lastFailure = state.reason;
      log(
        `no connection to ${displayUrl} (${state.reason}); retrying in ${(state.retryInMs / 1000).toFixed(1)} s, then less and less often while it lasts`,
      );
    }
  };
}
