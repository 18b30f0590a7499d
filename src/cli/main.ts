#!/usr/bin/env node
/**
 * The `proxkit` command line. Errors become one line on stderr: exit 2 for bad input
 * (options, keys, bytes, files), 1 for other failures; `--verbose` adds the stack.
 */
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { ConfigError, ProxkitError } from "../core/errors.js";
import { advCommand } from "./commands/adv.js";
import { advertiseCommand } from "./commands/advertise.js";
import { benchCommand } from "./commands/bench.js";
import { checkpointCommand } from "./commands/checkpoint.js";
import { collectCommand } from "./commands/collect.js";
import { demoCommand } from "./commands/demo.js";
import { distanceCommand } from "./commands/distance.js";
import { evaluateCommand } from "./commands/evaluate.js";
import { firmwareCommand } from "./commands/firmware.js";
import { hciCommand } from "./commands/hci.js";
import { idsCommand } from "./commands/ids.js";
import { keysCommand } from "./commands/keys.js";
import { matchCommand } from "./commands/match.js";
import { scanCommand } from "./commands/scan.js";
import { simulateCommand } from "./commands/simulate.js";
import { sweepCommand } from "./commands/sweep.js";
import { workerCommand } from "./commands/worker.js";
import { checkOptionValues, type DeclaredOptions } from "./option-checks.js";
import { errorInFlags } from "./option-names.js";

const EXIT_FAILURE = 1;
const EXIT_BAD_INPUT = 2;

function report(error: unknown, verbose: boolean): number {
  const isBadInput = error instanceof ProxkitError ? error.isInputError : false;
  process.stderr.write(`proxkit: ${errorInFlags(error)}\n`);
  if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  else if (!(error instanceof ProxkitError))
    process.stderr.write("(run with --verbose for details)\n");
  return isBadInput ? EXIT_BAD_INPUT : EXIT_FAILURE;
}

/**
 * yargs names an unknown `--foo-bar` twice, as "foo-bar, fooBar": the camel-case copy goes.
 */
function withoutCamelCase(message: string): string {
  const match = /^(Unknown arguments?): (.*)$/.exec(message);
  if (!match) return message;
  const names = match[2].split(", ");
  const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const kept = names.filter(
    (name) => !names.some((other) => other !== name && camel(other) === name),
  );
  return `${kept.length === 1 ? "Unknown argument" : "Unknown arguments"}: ${kept.join(", ")}`;
}

export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes("--verbose");
  const parser = yargs(argv)
    .scriptName("proxkit")
    .usage(
      "$0 <command> [options]\n\nBLE proximity detection: rolling IDs (GAEN, DP-3T, Bluezone), advertising codecs, exposure and simulation.",
    )
    .command(idsCommand)
    .command(advCommand)
    .command(keysCommand)
    .command(matchCommand)
    .command(evaluateCommand)
    .command(simulateCommand)
    .command(sweepCommand)
    .command(workerCommand)
    .command(distanceCommand)
    .command(benchCommand)
    .command(demoCommand)
    .command(collectCommand)
    .command(checkpointCommand)
    .command(hciCommand)
    .command(firmwareCommand)
    .command(scanCommand)
    .command(advertiseCommand)
    .option("verbose", { type: "boolean", default: false, describe: "Show stack traces on errors" })
    // Before validation and any handler: repeated, valueless and non-number options fail here.
    // yargs passes the command's own parser as a second argument, which its types leave out.
    .middleware((args: Record<string, unknown>, instance?: { getOptions(): unknown }) => {
      if (instance) checkOptionValues(args, instance.getOptions() as DeclaredOptions, argv);
    }, true)
    .demandCommand(1, "a command is needed")
    .recommendCommands()
    .strict()
    .help()
    .alias("help", "h")
    .version()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .epilogue("Exit codes: 0 success, 1 failure, 2 bad input. Docs: README.md and docs/")
    .fail((message, error) => {
      // Throwing stops yargs before any handler runs; main() reports it as bad input.
      throw (
        error ??
        new ConfigError(
          `${withoutCamelCase(message.replace(/\s*\n\s*/g, " "))} (see --help)`,
          "E_USAGE",
        )
      );
    })
    .exitProcess(false);
  try {
    await parser.parseAsync();
  } catch (error) {
    return report(error, verbose);
  }
  return 0;
}

process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  // A closed pipe (proxkit ids ... | head) is not an error.
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

const code = await main(hideBin(process.argv));
if (code !== 0) process.exitCode = code;
else if (process.exitCode === undefined) process.exitCode = 0;
