import type { Argv, CommandModule } from "yargs";
import { systemClock } from "../../core/clock.js";
import { cryptoRandom } from "../../core/random.js";
import { saveKeyStore } from "../../io/key-store-file.js";
import { DEFAULT_RETENTION_DAYS, KeyStore } from "../../protocols/key-store.js";
import { PROTOCOLS, type Protocol } from "../../protocols/rolling-id-scheme.js";
import { parseInteger } from "../parse.js";

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
    const date = new Date(key.day * 86_400_000).toISOString().slice(0, 10);
    process.stderr.write(
      `created ${args.out} (${args.protocol}, key for ${date}, keeps ${store.retentionDays} days, mode 0600)\n`,
    );
  },
};

export const keysCommand: CommandModule = {
  command: "keys",
  describe: "Manage a device's own rolling keys",
  builder: (yargs: Argv) =>
    yargs.command(newCommand).demandCommand(1, "keys needs a subcommand: new"),
  handler: () => {},
};
