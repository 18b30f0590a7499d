/** The CLI puts its flags back into library messages, which name only files and their own words. */
import { describe, expect, it } from "vitest";
import { nameOption, withFlags } from "../../src/cli/option-names.js";
import { ConfigError } from "../../src/core/errors.js";

describe("nameOption", () => {
  it("puts the flag before the value, once", () => {
    const error = new ConfigError("cannot open day.sqlite: busy", "E_DB");
    expect(nameOption(error, "day.sqlite", "--db")).toBe(error);
    expect(error.message).toBe("cannot open --db day.sqlite: busy");
    nameOption(error, "day.sqlite", "--db");
    expect(error.message).toBe("cannot open --db day.sqlite: busy");
  });

  it("leaves other errors and messages without the value alone", () => {
    const plain = new Error("day.sqlite");
    nameOption(plain, "day.sqlite", "--db");
    expect(plain.message).toBe("day.sqlite");
    const other = new ConfigError("something else", "E_X");
    nameOption(other, "day.sqlite", "--db");
    expect(other.message).toBe("something else");
  });
});

describe("withFlags", () => {
  it("says the radio's words as the CLI's flags", () => {
    expect(withFlags("no Bluetooth adapter found: plug one in, or use the sim radio")).toBe(
      "no Bluetooth adapter found: plug one in, or use --radio sim",
    );
    expect(withFlags("this machine has hci0, hci1, so use deviceId 0")).toBe(
      "this machine has hci0, hci1, so use --hci 0",
    );
    expect(withFlags("pick another adapter with deviceId N, or check")).toBe(
      "pick another adapter with --hci N, or check",
    );
    expect(withFlags("(set allowStaticAddress to accept that)")).toBe(
      "(pass --allow-static-address to accept that)",
    );
    expect(withFlags("non-connectable): try intervalMs 250")).toBe(
      "non-connectable): try --interval 250",
    );
    expect(withFlags("nothing to change")).toBe("nothing to change");
  });
});

describe("withFlags for the checkpoint's libraries", () => {
  it("names the report's, MQTT's and key files' options", () => {
    expect(withFlags("lists; give a narrower period (fromMs, toMs) or per day (windows far")).toBe(
      "lists; give a narrower --from/--to or --per day (windows far",
    );
    expect(withFlags("give a narrower period (fromMs, toMs) (windows far")).toBe(
      "give a narrower --from/--to (windows far",
    );
    expect(withFlags("TLS material (ca, cert, key) needs an encrypted connection")).toBe(
      "--ca, --cert and --key need an encrypted connection",
    );
    expect(withFlags("needs both cert (the certificate) and key (its private key)")).toBe(
      "needs both --cert (the certificate) and --key (its private key)",
    );
    expect(withFlags("needs a user name (username, or PROXKIT_MQTT_USERNAME)")).toBe(
      "needs a user name (--mqtt-username or PROXKIT_MQTT_USERNAME)",
    );
    expect(withFlags("put it in a password file (mode 0600) or")).toBe(
      "put it in a file for --mqtt-password-file (mode 0600) or",
    );
    expect(withFlags("raise the limit (maxMb) if")).toBe("raise the limit with --max-mb if");
  });
});
