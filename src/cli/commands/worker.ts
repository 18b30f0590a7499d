import { resolve } from "node:path";
import type { Argv, CommandModule } from "yargs";
import { parseQueueUrl, shownUrl } from "../../../sim/sweep/queue-url.js";
import { ConfigError } from "../../core/errors.js";
import { prepareOutputFolder } from "../../io/output-folder.js";
import { parseInteger } from "../parse.js";

interface WorkerArgs {
  queue?: string;
  concurrency?: string;
  out?: string;
  "lock-duration"?: string;
  "stalled-interval"?: string;
  "max-stalled"?: string;
}

export const workerCommand: CommandModule<object, WorkerArgs> = {
  command: "worker",
  describe: "Take the runs of proxkit sweep --queue from Redis and run them, until stopped",
  builder: (yargs: Argv) =>
    yargs
      .option("queue", {
        alias: "q",
        type: "string",
        describe: "Redis URL the sweep enqueued on: redis://HOST:PORT (rediss:// for TLS)",
      })
      .option("concurrency", {
        alias: "c",
        type: "string",
        describe: "Runs at a time, each in its own process [default: 1]",
      })
      .option("out", {
        alias: "o",
        type: "string",
        describe:
          "Write run folders under this folder [default: the sweep's --out, when this machine shares it]",
      })
      .option("lock-duration", {
        type: "string",
        describe:
          "ms a run's lock lasts unrenewed: a worker that dies loses its run to another after this long [default: 30000]",
      })
      .option("stalled-interval", {
        type: "string",
        describe: "ms between checks for runs whose worker died [default: 30000]",
      })
      .option("max-stalled", {
        type: "string",
        describe: "Times a run may lose its worker before it fails for good [default: 3]",
      })
      .example(
        "$0 worker --queue redis://10.0.0.5:6379",
        "One run at a time, for any sweep on that Redis",
      )
      .example(
        "$0 worker -q redis://10.0.0.5:6379 --concurrency 8 --out /scratch/sweeps",
        "Eight at a time, run folders on this machine's disk (the rows still reach the sweep)",
      )
      .epilogue(
        "Each run goes to a child process, so the worker keeps renewing its runs' locks however long they take. Ctrl-C (or SIGTERM) lets the runs in progress finish and then exits; a second one exits at once, and those runs go to other workers once their locks expire. A worker that dies (killed, machine down) loses its runs the same way: another worker's check for stalled runs puts them back on the queue. Results are the job return values, collected by proxkit sweep --queue. See docs/sweeps.md.",
      ) as unknown as Argv<WorkerArgs>,
  handler: async (args) => {
    if (args.queue === undefined)
      throw new ConfigError("--queue is needed (the Redis URL the sweep enqueued on)", "E_USAGE");
    const url = parseQueueUrl(args.queue);
    const concurrency =
      args.concurrency === undefined ? 1 : parseInteger(args.concurrency, "--concurrency", 1, 256);
    const ms = (name: "lock-duration" | "stalled-interval", fallback: number) =>
      args[name] === undefined ? fallback : parseInteger(args[name], `--${name}`, 500, 86_400_000);
    const out = args.out === undefined ? undefined : resolve(args.out);
    if (out !== undefined) prepareOutputFolder(out, "--out");
    const log = (line: string) => process.stderr.write(`worker ${process.pid}: ${line}\n`);
    const { startQueueWorker } = await import("../../../sim/sweep/queue-sweep.js");
    const worker = await startQueueWorker({
      url,
      concurrency,
      out,
      lockDurationMs: ms("lock-duration", 30_000),
      stalledIntervalMs: ms("stalled-interval", 30_000),
      maxStalledCount:
        args["max-stalled"] === undefined
          ? 3
          : parseInteger(args["max-stalled"], "--max-stalled", 1, 100),
      log,
    });
    log(`waiting for runs on ${shownUrl(url)} (${concurrency} at a time)`);
    await new Promise<void>((resolveStopped) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) {
          log(`${signal} again: leaving the runs in progress to other workers`);
          process.exitCode = 130;
          void worker.close(true).finally(resolveStopped);
          return;
        }
        stopping = true;
        log(`${signal}: finishing the runs in progress, taking no more (again to stop now)`);
        void worker.close(false).finally(resolveStopped);
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    log(`stopped after ${worker.finished()} runs`);
  },
};
