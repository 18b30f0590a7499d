import type { Argv, CommandModule } from "yargs";
import {
  Collector,
  type CollectorState,
  DEFAULT_COLLECT_TOPIC,
} from "../../checkpoint/collector.js";

interface CollectArgs {
  mqtt: string;
  db: string;
  topic: string;
  "client-id"?: string;
  receipts: boolean;
}

export interface CollectOptions {
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
export async function runCollect(
  options: CollectOptions,
  log: (line: string) => void = (line) => process.stderr.write(`proxkit collect: ${line}\n`),
): Promise<void> {
  let fatal: Error | undefined;
  let wake: () => void = () => {};
  const collector = new Collector({
    url: options.mqtt,
    dbPath: options.db,
    topic: options.topic,
    clientId: options.clientId,
    receipts: options.receipts,
    warn: log,
    onState: (state) => {
      const line = describeState(state, options.mqtt);
      if (line) log(line);
    },
    onFatal: (error) => {
      fatal = error;
      wake();
    },
  });
  await collector.start();
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

export const collectCommand: CommandModule<object, CollectArgs> = {
  command: "collect",
  describe: "Collect the checkpoints' exposure windows from an MQTT broker into SQLite, each once",
  builder: (yargs: Argv) =>
    yargs
      .option("mqtt", {
        type: "string",
        demandOption: true,
        describe:
          "The broker: mqtt://host:1883 (or mqtts://, ws://, wss://; mqtt://user:password@host for a broker with passwords)",
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
          "Confirm each stored window to its checkpoint on proxkit/<site>/<checkpoint>/receipts; checkpoints delete a window from their outbox only then (--no-receipts for a second, read-only collector)",
      })
      .example("$0 collect --mqtt mqtt://localhost:1883 --db fleet.sqlite", "Collect every site")
      .example(
        "$0 collect --mqtt mqtt://broker.lan --db venue-a.sqlite --topic 'proxkit/venue-a/+/windows'",
        "One site only",
      )
      .epilogue(
        "Runs until Ctrl-C or SIGTERM. Each window is committed to the database before the broker is told it arrived (QoS 1) and before its checkpoint gets the receipt that lets it delete the window; a window received twice is stored once. So restarts or crashes of the collector, the broker or a checkpoint lose and duplicate nothing. Query with sqlite3: SELECT site, checkpoint, count(*) FROM collected_windows GROUP BY 1, 2;",
      ) as unknown as Argv<CollectArgs>,
  handler: async (args) => {
    await runCollect({
      mqtt: args.mqtt,
      db: args.db,
      topic: args.topic,
      clientId: args["client-id"],
      receipts: args.receipts,
    });
  },
};
