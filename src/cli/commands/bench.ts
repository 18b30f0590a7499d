import type { Argv, CommandModule } from "yargs";
import { measure, runBench, selectWorkloads } from "../../../scripts/bench/run-bench.js";
import { WORKLOADS } from "../../../scripts/bench/workloads.js";

interface BenchArgs {
  quick?: boolean;
  only?: string[];
  list?: boolean;
  "in-process"?: boolean;
}

export const benchCommand: CommandModule<object, BenchArgs> = {
  command: "bench",
  describe: "Run the named benchmark workloads; one JSON line each on stdout",
  builder: (yargs: Argv) =>
    yargs
      .option("quick", {
        type: "boolean",
        default: false,
        describe: "Short runs (for CI smoke tests); figures are rougher",
      })
      .option("only", {
        type: "string",
        array: true,
        describe:
          "Run only these workloads (names or prefixes such as gaen.; comma-separated or repeated)",
      })
      .option("list", { type: "boolean", default: false, describe: "List the workloads and exit" })
      .option("in-process", { type: "boolean", default: false, hidden: true })
      .example(
        "$0 bench --only gaen.rpi.derive",
        "RPI derivation, with the straightforward baseline and the ratio",
      )
      .epilogue(
        "Each workload runs in its own process: after a warm-up, five timed segments; ops_per_s is their median, rss_mb the process's resident memory at the end. Workloads with a baseline report vs_baseline = ops_per_s / baseline's ops_per_s, measured in the same run.",
      ) as unknown as Argv<BenchArgs>,
  handler: (args) => {
    if (args.list) {
      for (const w of WORKLOADS) process.stdout.write(`${w.name.padEnd(34)} ${w.describe}\n`);
      return;
    }
    if (args["in-process"]) {
      const [workload] = selectWorkloads(args.only);
      process.stdout.write(`${JSON.stringify(measure(workload, Boolean(args.quick)))}\n`);
      return;
    }
    runBench({ quick: Boolean(args.quick), only: args.only }, process.argv[1], (line) =>
      process.stdout.write(line),
    );
  },
};
