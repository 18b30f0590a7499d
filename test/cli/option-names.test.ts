/**
 * Library messages name the library's options as data beside their words; the CLI says its
 * flags instead, from a typed table, and puts its flag before a value of its own (--db FILE).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { adoptionReport } from "../../src/checkpoint/adoption-report.js";
import { connectionWarnings, mqttConnectOptions } from "../../src/checkpoint/mqtt-connection.js";
import { errorInFlags, inFlags, nameOption, OPTION_FLAGS } from "../../src/cli/option-names.js";
import { ConfigError, ProxkitError } from "../../src/core/errors.js";
import {
  type LibraryOption,
  mention,
  type OptionText,
  optionText,
} from "../../src/core/option-text.js";
import { readKeyFile } from "../../src/io/key-file-archive.js";
import {
  type AdapterProbe,
  adapterNotReady,
  checkAdapterPresent,
} from "../../src/radio/hci/adapter-diagnosis.js";
import { runCli } from "./run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "proxkit-option-names-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A Linux machine with these adapters and the permission to use them. */
const probe = (adapters: string[]): AdapterProbe => ({
  adapters: () => adapters,
  hasRawSocketPermission: () => true,
  usesKernelAdapters: true,
});

/** What `run` throws. */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("nothing thrown");
}

/** A key file of two bytes, over a one-byte limit. */
function oversizedKeyFile(): unknown {
  const path = join(dir, "keys.bin");
  writeFileSync(path, "xx");
  return thrown(() => readKeyFile(path, { maxBytes: 1 }));
}

/**
 * The library's messages that name its options: what makes one, the library's words, the same
 * place in the CLI's words, and the options named. The rest of each message stays as it is.
 */
const MESSAGES: readonly [
  what: string,
  make: () => unknown,
  library: string,
  cli: string,
  options: LibraryOption[],
][] = [
  [
    "no adapter",
    () => checkAdapterPresent(undefined, probe([])),
    "or use the sim radio",
    "or use --radio sim",
    ["radio"],
  ],
  [
    "no such adapter",
    () => checkAdapterPresent(2, probe(["hci0", "hci1"])),
    "has hci0, hci1, so use deviceId 0",
    "has hci0, hci1, so use --hci 0",
    ["deviceId"],
  ],
  [
    "an adapter without LE",
    () => adapterNotReady("unsupported", undefined, 0, probe(["hci0"])),
    "pick another adapter with deviceId N, or check",
    "pick another adapter with --hci N, or check",
    ["deviceId"],
  ],
  [
    "a report of too many hours",
    () => thrown(() => adoptionReport([], { fromMs: 0, toMs: 2e12 })),
    "lists; give a narrower period (fromMs, toMs) or per day (windows far",
    "lists; give a narrower --from/--to or --per day (windows far",
    ["fromMs", "toMs", "per"],
  ],
  [
    "a report of too many days",
    () => thrown(() => adoptionReport([], { fromMs: 0, toMs: 2e12, per: "day" })),
    "give a narrower period (fromMs, toMs) (windows far",
    "give a narrower --from/--to (windows far",
    ["fromMs", "toMs"],
  ],
  [
    "TLS material without TLS",
    () => thrown(() => mqttConnectOptions("mqtt://h", { ca: "CA" })),
    "ca, cert and key need an encrypted connection",
    "--ca, --cert and --key need an encrypted connection",
    ["ca", "cert", "key"],
  ],
  [
    "a certificate without its key",
    () => thrown(() => mqttConnectOptions("mqtts://h", { cert: "CERT" })),
    "needs both cert (the certificate) and key (its private key)",
    "needs both --cert (the certificate) and --key (its private key)",
    ["cert", "key"],
  ],
  [
    "a password without a user",
    () => thrown(() => mqttConnectOptions("mqtt://h", { password: "x" })),
    "needs a user name (username or PROXKIT_MQTT_USERNAME)",
    "needs a user name (--mqtt-username or PROXKIT_MQTT_USERNAME)",
    ["username"],
  ],
  [
    "a password in the URL",
    () => connectionWarnings("mqtts://u:p@h")[0],
    "put it in a password file (mode 0600) or",
    "put it in a file for --mqtt-password-file (mode 0600) or",
    ["password"],
  ],
  [
    "an anonymous unencrypted connection",
    () => connectionWarnings("mqtt://h")[0],
    "use mqtts:// with a CA certificate and a user name and password (docs",
    "use mqtts:// with --ca and --mqtt-username/--mqtt-password-file (docs",
    ["ca", "username", "password"],
  ],
  [
    "an oversized key file",
    oversizedKeyFile,
    "raise the limit with maxBytes if",
    "raise the limit with --max-mb if",
    ["maxBytes"],
  ],
];

describe("library messages in the CLI's words", () => {
  it.each(MESSAGES)("%s", (_what, make, library, cli, options) => {
    const made = make();
    const text = made instanceof ProxkitError ? made.text : (made as OptionText);
    expect(String(text)).toContain(library);
    expect(inFlags(text)).toBe(String(text).replace(library, cli));
    expect(text.options).toEqual(options);
    if (made instanceof ProxkitError) {
      expect(made.message).toBe(String(text));
      expect(made.options).toEqual(options);
      expect(errorInFlags(made)).toBe(inFlags(text));
    }
  });

  it("says each mention by rule: a value, a switch, several options, a file", () => {
    const text = optionText`${mention("intervalMs", { value: "250" })}; ${mention("allowStaticAddress", { value: true })}; ${mention(["fromMs", "toMs"])}; ${mention("password", { inFile: true, text: "a password file" })}; ${42}`;
    expect(String(text)).toBe(
      "intervalMs 250; set allowStaticAddress; fromMs/toMs; a password file; 42",
    );
    expect(inFlags(text)).toBe(
      "--interval 250; pass --allow-static-address; --from/--to; a file for --mqtt-password-file; 42",
    );
  });

  it("leaves messages that name no option, and other errors, as they are", () => {
    expect(errorInFlags(new ConfigError("nothing to change", "E_X"))).toBe("nothing to change");
    expect(errorInFlags(new Error("deviceId 0"))).toBe("deviceId 0");
    expect(errorInFlags("use the sim radio")).toBe("use the sim radio");
  });

  it("names only flags the commands have", () => {
    const help = [
      ["advertise", "--help"],
      ["checkpoint", "--help"],
      ["checkpoint", "report", "--help"],
      ["match", "--help"],
    ]
      .map((args) => runCli(args).stdout)
      .join("\n");
    for (const flag of Object.values(OPTION_FLAGS))
      expect(help).toMatch(new RegExp(`^ +${flag}\\b`, "m"));
  });
});

describe("nameOption", () => {
  it("puts the flag before the value, once", () => {
    const error = new ConfigError("cannot open day.sqlite: busy", "E_DB");
    expect(nameOption(error, "day.sqlite", "--db")).toBe(error);
    expect(error.message).toBe("cannot open --db day.sqlite: busy");
    nameOption(error, "day.sqlite", "--db");
    expect(error.message).toBe("cannot open --db day.sqlite: busy");
    expect(errorInFlags(error)).toBe("cannot open --db day.sqlite: busy");
  });

  it("leaves other errors and messages without the value alone", () => {
    const plain = new Error("day.sqlite");
    nameOption(plain, "day.sqlite", "--db");
    expect(plain.message).toBe("day.sqlite");
    const other = new ConfigError("something else", "E_X");
    nameOption(other, "day.sqlite", "--db");
    expect(other.message).toBe("something else");
  });

  it("keeps the CLI's words for the options the message names", () => {
    const error = new ConfigError(
      optionText`day.sqlite is busy: try ${mention("intervalMs", { value: "250" })}`,
      "E_X",
    );
    nameOption(error, "day.sqlite", "--db");
    expect(errorInFlags(error)).toBe("--db day.sqlite is busy: try --interval 250");
  });
});
