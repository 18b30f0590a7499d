import { existsSync } from "node:fs";
import type { Argv, CommandModule } from "yargs";
import { systemClock } from "../../core/clock.js";
import { KeyFileError } from "../../core/errors.js";
import { cryptoRandom } from "../../core/random.js";
import { exportKeyFile, parseDiagnosisKeysJsonl } from "../../exposure/key-file/index.js";
import { inspectKeyFile } from "../../io/inspect-key-file.js";
import { writeKeyFileZip } from "../../io/key-file-archive.js";
import { saveKeyStore } from "../../io/key-store-file.js";
import { INPUT_LIMITS, readInputFile } from "../../io/read-input-file.js";
import { DEFAULT_RETENTION_DAYS, KeyStore } from "../../protocols/key-store.js";
import { PROTOCOLS, type Protocol, utcDate } from "../../protocols/rolling-id-scheme.js";

import { writeJson } from "../output.js";
import { maxMegabytes, parseInteger } from "../parse.js";

interface NewArgs {
  protocol: string;
  out: string;
  "retention-days"?: string;
  force?: boolean;
}

const newCommand: CommandModule<object, NewArgs> = {
  command: "new",
  describe: "Create a key store with today's key, from the system CSPRNG (file mode 0600)",
  builder: (yargs: Argv) =>
    yargs
      .option("protocol", { alias: "p", type: "string", choices: PROTOCOLS, demandOption: true })
      .option("out", {
        alias: "o",
        type: "string",
        demandOption: true,
        describe: "Path of the key store to create (never overwritten unless --force)",
      })
      .option("retention-days", {
        type: "string",
        describe: `Days of keys kept [default: ${DEFAULT_RETENTION_DAYS}; DP-3T deployments used up to 21]`,
      })
      .option("force", {
        type: "boolean",
        default: false,
        describe: "Replace an existing key store (its keys are lost)",
      })
      .example(
        "$0 keys new -p gaen -o device.keys.json",
        "A GAEN key store for one device",
      ) as unknown as Argv<NewArgs>,
  handler: (args) => {
    const retentionDays =
      args["retention-days"] === undefined
        ? undefined
        : parseInteger(args["retention-days"], "--retention-days", 1, 366);
    const store = new KeyStore(args.protocol as Protocol, { retentionDays });
    const key = store.ensureCurrent(systemClock.nowMs(), cryptoRandom);
    saveKeyStore(args.out, store, { overwrite: args.force });
    const date = utcDate(key.day);
    process.stderr.write(
      `created ${args.out} (${args.protocol}, key for ${date}, keeps ${store.retentionDays} days, mode 0600)\n`,
    );
  },
};

interface InspectArgs {
  file: string;
  "public-key"?: string;
  "max-mb"?: number;
  format?: string;
}

const inspectCommand: CommandModule<object, InspectArgs> = {
  command: "inspect <file>",
  describe: "Summarise a GAEN diagnosis-key file (zip or export.bin) and check its signature",
  builder: (yargs: Argv) =>
    yargs
      .positional("file", {
        type: "string",
        demandOption: true,
        describe: "export zip, or a bare export.bin",
      })
      .option("public-key", {
        type: "string",
        describe: "Verification key: base64 SPKI, or PEM text or file",
      })
      .option("max-mb", {
        type: "number",
        default: 64,
        describe: "Largest file accepted, MB (also the limit on a zip's declared content)",
      })
      .option("format", { type: "string", choices: ["json"], default: "json" })
      .epilogue(
        'Prints {"region", "start", "end", "batch", "keys", "signature"}; signature is valid, invalid (exit 1), absent or unchecked (no --public-key).',
      )
      .example(
        "$0 keys inspect export.zip --public-key MFkwEwYH...",
        "Check a key server's file",
      ) as unknown as Argv<InspectArgs>,
  handler: (args) => {
    const summary = inspectKeyFile(args.file, {
      publicKey: readKeyArgument(args["public-key"]),
      maxBytes: maxMegabytes(args["max-mb"]),
    });
    writeJson(summary);
    if (summary.signature === "invalid") {
      process.stderr.write(
        "proxkit: the signature is invalid: the file was altered or signed with another key\n",
      );
      process.exitCode = 1;
    }
  },
};

interface ExportArgs {
  keys: string;
  "signing-key": string;
  out: string;
  region: string;
  "key-id": string;
  "key-version": string;
  start?: number;
  end?: number;
  force?: boolean;
}

const exportCommand: CommandModule<object, ExportArgs> = {
  command: "export",
  describe:
    "Write a signed diagnosis-key file (export.bin + export.sig in a zip), as a key server does",
  builder: (yargs: Argv) =>
    yargs
      .option("keys", {
        type: "string",
        demandOption: true,
        describe:
          'Keys as JSON lines: {"key": "<32 hex>", "rollingStartIntervalNumber": N, "rollingPeriod": 144, ...}',
      })
      .option("signing-key", {
        type: "string",
        demandOption: true,
        describe: "ECDSA P-256 private key, PEM file",
      })
      .option("out", {
        alias: "o",
        type: "string",
        demandOption: true,
        describe: "The zip to write",
      })
      .option("region", {
        type: "string",
        default: "XX",
        describe: "Region code written in the file",
      })
      .option("key-id", { type: "string", default: "proxkit", describe: "verification_key_id" })
      .option("key-version", {
        type: "string",
        default: "v1",
        describe: "verification_key_version",
      })
      .option("start", {
        type: "number",
        describe: "start_timestamp, unix s [default: the earliest key's rolling start]",
      })
      .option("end", {
        type: "number",
        describe: "end_timestamp, unix s [default: the latest key's end]",
      })
      .option("force", {
        type: "boolean",
        default: false,
        describe: "Overwrite --out if it exists",
      })
      .example(
        "openssl ecparam -name prime256v1 -genkey -noout -out signing.pem",
        "Make a test signing key",
      )
      .example(
        "$0 keys export --keys keys.jsonl --signing-key signing.pem --out export.zip",
        "Sign and write the file",
      ) as unknown as Argv<ExportArgs>,
  handler: (args) => {
    const keys = parseDiagnosisKeysJsonl(
      readInputFile(args.keys, { what: "keys file", maxBytes: INPUT_LIMITS.wholeLinesBytes }),
      args.keys,
    );
    if (keys.length === 0) throw new KeyFileError(`${args.keys} holds no keys`, "E_EMPTY");
    const signingKeyPem = readInputFile(args["signing-key"], { what: "signing key" });
    const starts = keys.map((k) => k.rollingStartIntervalNumber * 600);
    const ends = keys.map((k) => (k.rollingStartIntervalNumber + k.rollingPeriod) * 600);
    const parts = exportKeyFile({
      keys,
      region: args.region,
      startTimestampS: args.start ?? Math.min(...starts),
      endTimestampS: args.end ?? Math.max(...ends),
      signingKeyPem,
      keyId: args["key-id"],
      keyVersion: args["key-version"],
    });
    if (!args.force && existsSync(args.out))
      throw new KeyFileError(`${args.out} already exists (use --force to replace it)`, "E_EXISTS");
    writeKeyFileZip(args.out, parts);
    process.stderr.write(
      `wrote ${args.out}: ${keys.length} keys, signed with key id ${args["key-id"]} ${args["key-version"]}\n`,
    );
  },
};

/** A key given as text, or as the path of a file holding it. */
function readKeyArgument(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return existsSync(value) ? readInputFile(value, { what: "public key" }) : value;
}

export const keysCommand: CommandModule = {
  command: "keys",
  describe: "Own rolling keys (new) and published diagnosis-key files (inspect, export)",
  builder: (yargs: Argv) =>
    yargs
      .command(newCommand)
      .command(inspectCommand)
      .command(exportCommand)
      .demandCommand(1, "keys needs a subcommand: new, inspect or export"),
  handler: () => {},
};
