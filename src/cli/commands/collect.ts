import { closeSync, existsSync, openSync, writeSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Argv, CommandModule } from "yargs";
import {
  Collector,
  type CollectorState,
  DEFAULT_COLLECT_TOPIC,
  validateTopicFilter,
} from "../../checkpoint/collector.js";
import { generateFleetSecret, generateReceiptKeyPair } from "../../checkpoint/receipt-signature.js";
import { ConfigError } from "../../core/errors.js";
import { type MqttCliArgs, mqttSecurityOptions, resolveMqttOptions } from "../mqtt-options.js";
import { nameOption } from "../option-names.js";

interface CollectArgs extends MqttCliArgs {
  mqtt: string;
  db: string;
  topic: string;
  "client-id"?: string;
  receipts: boolean;
}

export interface CollectOptions extends MqttCliArgs {
  readonly mqtt: string;
  readonly db: string;
  readonly topic?: string;
  readonly clientId?: string;
  readonly receipts?: boolean;
}

function describeState(state: CollectorState, url: string): string | undefined {
  switch (state.state) {
    case "connected":
      return `connected to ${url}${state.sessionPresent ? " (resuming the session: windows queued while away follow)" : ""}`;
    case "subscribed":
      return `subscribed to ${state.topic}`;
    case "disconnected":
      return `no connection to ${url} (${state.reason}); retrying in ${(state.retryInMs / 1000).toFixed(1)} s, then less and less often while it lasts`;
    default:
      return undefined;
  }
}

/**
 * Runs the collector until SIGINT or SIGTERM (or `stopSignal`), then closes the session and the
 * database and prints what was stored. Bad options throw a `ConfigError` before anything starts.
 */
/** `runCollect`, with --db named in the database's errors (the library names only the file). */
async function runCollectNamingDb(options: CollectOptions): Promise<void> {
  try {
    await runCollect(options);
  } catch (error) {
    throw nameOption(error, options.db, "--db");
  }
}

export async function runCollect(
  options: CollectOptions,
  log: (line: string) => void = (line) => process.stderr.write(`proxkit collect: ${line}\n`),
): Promise<void> {
  // The collector checks these too, in its own words; the user is told the flag.
  if (options.topic !== undefined) validateTopicFilter(options.topic, "--topic");
  if (options.clientId !== undefined && options.clientId === "")
    throw new ConfigError("--client-id must be a non-empty string", "E_MQTT_CLIENT_ID");
  let fatal: Error | undefined;
  let wake: () => void = () => {};
  const mqtt = resolveMqttOptions(
    "collect",
    options.mqtt,
    options,
    {},
    {
      receipts: options.receipts,
    },
  )!;
  const collector = new Collector({
    url: options.mqtt,
    connection: mqtt.connection,
    receiptKey: mqtt.receiptKey,
    dbPath: options.db,
    topic: options.topic,
    clientId: options.clientId,
    receipts: options.receipts,
    warn: log,
    onState: (state) => {
      const line = describeState(state, mqtt.displayUrl);
      if (line) log(line);
    },
    onFatal: (error) => {
      fatal = error;
      wake();
    },
  });
  await collector.start();
  for (const line of mqtt.notices) log(line);
  log(`storing windows in ${options.db}; Ctrl-C to stop`);
  const signals = ["SIGINT", "SIGTERM"] as const;
  await new Promise<void>((resolve) => {
    wake = resolve;
    for (const signal of signals) process.once(signal, resolve);
  });
  for (const signal of signals) process.removeListener(signal, wake);
  await collector.stop();
  const { stored, duplicates, rejected } = collector.counts;
  log(
    `stopped: ${stored} new windows stored, ${duplicates} duplicates ignored, ${rejected} malformed messages ignored`,
  );
  if (fatal) throw fatal;
}

/** Writes a file that must not exist yet, with `mode`. */
function writeNewFile(path: string, text: string, mode: number): void {
  let fd: number;
  try {
    fd = openSync(path, "wx", mode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === "EEXIST"
        ? `${path} exists already: keygen does not overwrite keys (a new key means redistributing the public key)`
        : `cannot create ${path} (${code ?? (error as Error).message})`,
      "E_KEYGEN",
    );
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/** `proxkit collect keygen`: a receipt key pair (or a fleet secret) for the collector and its checkpoints. */
export function runKeygen(args: { out: string; type?: string }): string[] {
  const type = args.type ?? "ed25519";
  if (type !== "ed25519" && type !== "hmac")
    throw new ConfigError(`--type must be ed25519 or hmac, got "${type}"`, "E_KEYGEN");
  const folder = dirname(resolve(args.out));
  if (!existsSync(folder))
    throw new ConfigError(`--out ${args.out}: the folder ${folder} does not exist`, "E_KEYGEN");
  if (type === "hmac") {
    const path = `${args.out}.secret`;
    writeNewFile(path, `${generateFleetSecret()}\n`, 0o600);
    return [
      `wrote the fleet secret ${path} (mode 0600): give it to the collector and to every checkpoint as --receipt-key; anyone holding it can forge receipts for any checkpoint`,
    ];
  }
  const pair = generateReceiptKeyPair();
  const keyPath = `${args.out}.key`;
  const pubPath = `${args.out}.pub`;
  if (existsSync(pubPath))
    throw new ConfigError(`${pubPath} exists already: keygen does not overwrite keys`, "E_KEYGEN");
  writeNewFile(keyPath, pair.privatePem, 0o600);
  writeNewFile(pubPath, pair.publicPem, 0o644);
  return [
    `wrote the collector's private key ${keyPath} (mode 0600): proxkit collect --receipt-key ${keyPath}`,
    `wrote the public key ${pubPath}: copy it to every checkpoint, proxkit checkpoint --receipt-key ${pubPath}`,
  ];
}

const collectRun: CommandModule<object, CollectArgs> = {
  command: "$0",
  describe: "Collect the checkpoints' exposure windows from an MQTT broker into SQLite, each once",
  builder: (yargs: Argv) =>
    yargs
      .option("mqtt", {
        type: "string",
        demandOption: true,
        describe:
          "The broker: mqtt://host:1883, or mqtts://host:8883 with --ca (also ws://, wss://). Log in with --mqtt-username and --mqtt-password-file, not user:password@ in the URL",
      })
      .option("db", {
        type: "string",
        demandOption: true,
        describe:
          "The collector's SQLite file, created with mode 0600 if missing (WAL; one row per window id)",
      })
      .option("topic", {
        type: "string",
        default: DEFAULT_COLLECT_TOPIC,
        describe:
          "MQTT topic filter; checkpoints publish to proxkit/<site>/<checkpoint>/windows, so proxkit/venue-a/+/windows collects one site",
      })
      .option("client-id", {
        type: "string",
        describe:
          "The broker session's name (clean=false: the broker queues windows while the collector is away, under this name) [default: proxkit-collector-<hostname>]",
      })
      .option("receipts", {
        type: "boolean",
        default: true,
        describe:
          "With --receipt-key: confirm each stored window to its checkpoint with a signed receipt on proxkit/<site>/<checkpoint>/receipts; checkpoints with the matching key delete a window from their outbox only then (--no-receipts for a second, read-only collector)",
      })
      .options(mqttSecurityOptions("collect"))
      .example(
        "$0 collect --mqtt mqtts://broker.lan:8883 --ca ca.crt --mqtt-username collector --mqtt-password-file collector.password --receipt-key collector.key --db fleet.sqlite",
        "Collect every site over TLS, signing receipts (docs/fleet.md)",
      )
      .example(
        "$0 collect --mqtt mqtt://broker.lan --db venue-a.sqlite --topic 'proxkit/venue-a/+/windows'",
        "One site only",
      )
      .epilogue(
        "Runs until Ctrl-C or SIGTERM. Each window is committed to the database before the broker is told it arrived (QoS 1) and, with --receipt-key, before its checkpoint gets the signed receipt that lets it delete the window; a window received twice is stored once. So restarts or crashes of the collector, the broker or a checkpoint lose and duplicate nothing. Without --receipt-key no receipts are sent (unsigned receipts would let anyone on the broker empty a checkpoint's outbox) and checkpoints delete at the broker's PUBACK. Query with sqlite3: SELECT site, checkpoint, count(*) FROM collected_windows GROUP BY 1, 2;",
      ) as unknown as Argv<CollectArgs>,
  handler: async (args) => {
    await runCollectNamingDb({
      mqtt: args.mqtt,
      db: args.db,
      topic: args.topic,
      clientId: args["client-id"],
      receipts: args.receipts,
      "mqtt-username": args["mqtt-username"],
      "mqtt-password-file": args["mqtt-password-file"],
      ca: args.ca,
      cert: args.cert,
      key: args.key,
      "receipt-key": args["receipt-key"],
    });
  },
};

const keygenCommand: CommandModule<object, { out: string; type?: string }> = {
  command: "keygen",
  describe:
    "Make the receipt key: an Ed25519 pair (PREFIX.key for the collector, PREFIX.pub for checkpoints) or a fleet secret",
  builder: (yargs: Argv) =>
    yargs
      .option("out", {
        type: "string",
        demandOption: true,
        describe:
          "Prefix of the files written: PREFIX.key (mode 0600) and PREFIX.pub, or PREFIX.secret with --type hmac; never overwritten",
      })
      .option("type", {
        type: "string",
        describe:
          "ed25519 (checkpoints hold only the public key) or hmac (one shared fleet secret) [default: ed25519]",
      })
      .example("$0 collect keygen --out /etc/proxkit/collector", "collector.key and collector.pub")
      .epilogue(
        "The same with OpenSSL: openssl genpkey -algorithm ed25519 -out collector.key && openssl pkey -in collector.key -pubout -out collector.pub; a fleet secret: openssl rand -base64 32 > fleet.secret",
      ) as unknown as Argv<{ out: string; type?: string }>,
  handler: (args) => {
    for (const line of runKeygen(args)) process.stderr.write(`proxkit collect keygen: ${line}\n`);
  },
};

export const collectCommand: CommandModule = {
  command: "collect",
  describe:
    "Collect the checkpoints' exposure windows from an MQTT broker into SQLite, each once; keygen",
  builder: (yargs: Argv) =>
    yargs.command(collectRun as CommandModule).command(keygenCommand as CommandModule),
  handler: () => {},
};
