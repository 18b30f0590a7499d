/**
 * How the checkpoint's forwarder and the collector log in to the broker: user name and password
 * (kept out of the URL, where `ps` shows them to every user), and TLS with a private CA and an
 * optional client certificate. The server's certificate is always verified.
 */
import type { IClientOptions } from "mqtt";
import { ConfigError } from "../core/errors.js";
import { mention, type OptionText, optionText } from "../core/option-text.js";
import { parseMqttUrl } from "./mqtt-forwarder.js";

/** Credentials and TLS material for one MQTT connection (PEM text or bytes). */
export interface MqttConnectionOptions {
  /** Overrides a user name in the URL. */
  readonly username?: string;
  /** Overrides a password in the URL. */
  readonly password?: string;
  /** The CA that signed the broker's certificate (PEM); default the system's CAs. */
  readonly ca?: string | Buffer;
  /** Client certificate (PEM), with `key`. */
  readonly cert?: string | Buffer;
  /** The client certificate's private key (PEM), with `cert`. */
  readonly key?: string | Buffer;
}

/** URL schemes whose connection is encrypted (TLS). */
const TLS_PROTOCOLS = ["mqtts:", "ssl:", "wss:"];

/** True for an `mqtts://`, `ssl://` or `wss://` URL. */
export function isTlsUrl(url: string): boolean {
  return TLS_PROTOCOLS.includes(parseMqttUrl(url).protocol);
}

/** The URL without its user name and password, for logs. */
export function redactMqttUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = "";
    parsed.password = "";
    return parsed.toString().replace(/\/$/, url.endsWith("/") ? "/" : "");
  } catch {
    return url;
  }
}

/** How a connection is protected, for the start-time warnings. */
export interface ConnectionSecurity {
  readonly encrypted: boolean;
  /** A user name or a client certificate identifies this client to the broker. */
  readonly authenticated: boolean;
  readonly passwordInUrl: boolean;
}

export function connectionSecurity(
  url: string,
  connection: MqttConnectionOptions = {},
): ConnectionSecurity {
  const parsed = parseMqttUrl(url);
  return {
    encrypted: TLS_PROTOCOLS.includes(parsed.protocol),
    authenticated:
      connection.username !== undefined || parsed.username !== "" || connection.cert !== undefined,
    passwordInUrl: parsed.password !== "",
  };
}

/**
 * Checks the options against the URL (TLS material needs a TLS URL; a certificate and its key
 * come together) and returns the URL without credentials plus the MQTT.js options to connect
 * with. `what` names the URL option in errors.
 */
export function mqttConnectOptions(
  url: string,
  connection: MqttConnectionOptions = {},
  what = "the MQTT URL",
): { url: string; options: IClientOptions } {
  const parsed = parseMqttUrl(url, what);
  const tls =
    connection.ca !== undefined || connection.cert !== undefined || connection.key !== undefined;
  if (tls && !TLS_PROTOCOLS.includes(parsed.protocol))
    throw new ConfigError(
      optionText`${mention("ca")}, ${mention("cert")} and ${mention("key")} need an encrypted connection: give ${what} as mqtts://${parsed.host} (or wss://), not ${parsed.protocol}//`,
      "E_MQTT_TLS",
    );
  if ((connection.cert === undefined) !== (connection.key === undefined))
    throw new ConfigError(
      optionText`a client certificate needs both ${mention("cert")} (the certificate) and ${mention("key")} (its private key)`,
      "E_MQTT_TLS",
    );
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const username = connection.username ?? (parsed.username ? decode(parsed.username) : undefined);
  const password = connection.password ?? (parsed.password ? decode(parsed.password) : undefined);
  if (password !== undefined && username === undefined)
    throw new ConfigError(
      optionText`an MQTT password needs a user name (${mention("username")} or PROXKIT_MQTT_USERNAME)`,
      "E_MQTT_AUTH",
    );
  parsed.username = "";
  parsed.password = "";
  const options: IClientOptions = {
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(connection.ca !== undefined ? { ca: connection.ca } : {}),
    ...(connection.cert !== undefined ? { cert: connection.cert, key: connection.key } : {}),
    ...(TLS_PROTOCOLS.includes(parsed.protocol) ? { rejectUnauthorized: true } : {}),
  };
  return { url: parsed.toString(), options };
}

/**
 * The warnings to print when a daemon starts: a password in the URL (visible in `ps`), and a
 * connection that is both anonymous and unencrypted. Each names the options that would fix it
 * (`OptionText`; `String(warning)` is the text).
 */
export function connectionWarnings(
  url: string,
  connection: MqttConnectionOptions = {},
  urlOption = "the MQTT URL",
): OptionText[] {
  const security = connectionSecurity(url, connection);
  const warnings: OptionText[] = [];
  if (security.passwordInUrl)
    warnings.push(
      optionText`warning: the password in ${urlOption} is visible to every user of this machine (ps, /proc); put it in ${mention("password", { inFile: true, text: "a password file" })} (mode 0600) or in PROXKIT_MQTT_PASSWORD instead`,
    );
  if (!security.encrypted && !security.authenticated)
    warnings.push(
      optionText`warning: the connection to ${redactMqttUrl(url)} is anonymous and unencrypted: anyone on the network or the broker can read the rolling IDs and publish forged windows; use mqtts:// with ${mention("ca", { text: "a CA certificate" })} and ${mention(["username", "password"], { text: "a user name and password" })} (docs/fleet.md)`,
    );
  return warnings;
}
