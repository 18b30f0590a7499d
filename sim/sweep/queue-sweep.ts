/**
 * A sweep across machines on BullMQ and Redis. `submitSweep` puts one job per run on the queue
 * (job id `run-<run id>`: adding a run twice adds nothing, so submitting the same grid again
 * resumes it) and waits for them all, collecting each job's return value, the run's rows.
 * `startQueueWorker` takes jobs and runs each in a child process (`RunPool`), which leaves the
 * worker's event loop free to renew its job locks. A worker that dies mid-run stops renewing:
 * after `lockDurationMs` the stalled-job check of any live worker puts the run back on the queue
 * and another worker runs it. Runs are deterministic, so the rows are the same whoever ran them.
 *
 * Completed jobs are kept (their return values are the results); a sweep's runs are removed
 * from Redis only by hand (`redis-cli del` of the queue's keys, or a fresh Redis).
 */
import { join } from "node:path";
import { type Job, Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { ConfigError, ProxkitError } from "../../src/core/errors.js";
import { describeEntry, type SweepEntry } from "./grid.js";
import { shownUrl } from "./queue-url.js";
import type { SweepResultRow } from "./result-rows.js";
import { RunPool } from "./run-pool.js";

/** The one queue every sweep shares: each sweep waits only for its own runs' jobs. */
export const SWEEP_QUEUE = "proxkit-sweep";

/** Connecting, or a command, gives up after this long: an unreachable host is one error, not a hang. */
const CONNECT_TIMEOUT_MS = 5000;

export interface SweepJobData {
  readonly entry: SweepEntry;
  /** The submitter's --out: run folders go under it unless the worker has its own --out. */
  readonly out: string;
  readonly runReports: boolean;
}

export const jobIdOf = (entry: SweepEntry) => `run-${entry.id}`;

/**
 * A connection to Redis, proven by a PING: an unreachable or refusing server is a `ConfigError`
 * after at most `CONNECT_TIMEOUT_MS`. The connection returned reconnects on its own later on (a
 * Redis restart does not end a worker); BullMQ needs `maxRetriesPerRequest: null` for that.
 */
export async function connectRedis(url: URL): Promise<Redis> {
  const probe = new Redis(url.href, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let lastError: Error | undefined;
  probe.on("error", (error: Error) => {
    lastError = error;
  });
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    probe.disconnect();
    const detail = (lastError ?? (error as Error)).message || String(error);
    throw new ConfigError(`cannot reach Redis at ${shownUrl(url)}: ${detail}`, "E_QUEUE");
  }
  probe.disconnect();
  const connection = new Redis(url.href, {
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: null,
  });
  // BullMQ reports errors through its own objects; this keeps ioredis from printing them twice.
  connection.on("error", () => {});
  return connection;
}

export interface SubmitOptions {
  readonly url: URL;
  /** Absolute: workers on other machines write there when it is a shared folder. */
  readonly out: string;
  readonly runReports: boolean;
  /** Attempts per run when it fails (a stalled run, one whose worker died, is retried besides). */
  readonly attempts: number;
  /** How often the jobs' states are read [default: 0.5 s, longer with many runs pending]. */
  readonly pollMs?: number;
  readonly onProgress?: (done: number, total: number) => void;
  /** Aborting stops the waiting (the jobs stay queued: submitting again picks them up). */
  readonly signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done);
  });

/** Enqueues every entry (once) and waits for all: their rows, in the entries' order. */
export async function submitSweep(
  entries: readonly SweepEntry[],
  options: SubmitOptions,
): Promise<SweepResultRow[]> {
  const connection = await connectRedis(options.url);
  const queue = new Queue<SweepJobData, SweepResultRow[]>(SWEEP_QUEUE, { connection });
  const startedMs = Date.now();
  try {
    const jobOptions = {
      attempts: options.attempts,
      backoff: { type: "exponential", delay: 5000 },
      removeOnComplete: false,
      removeOnFail: false,
    };
    const add = (list: readonly SweepEntry[]) =>
      queue.addBulk(
        list.map((entry) => ({
          name: "run",
          data: { entry, out: options.out, runReports: options.runReports },
          opts: { ...jobOptions, jobId: jobIdOf(entry) },
        })),
      );
    for (let i = 0; i < entries.length; i += 500) await add(entries.slice(i, i + 500));
    const rowsOf = new Map<number, SweepResultRow[]>();
    const pending = new Map(entries.map((e) => [jobIdOf(e), e]));
    const retried = new Set<string>();
    const failures: string[] = [];
    options.onProgress?.(0, entries.length);
    while (pending.size > 0) {
      if (options.signal?.aborted)
        throw new ProxkitError("E_INTERRUPTED", "interrupted", { isInputError: false });
      const ids = [...pending.keys()];
      for (let i = 0; i < ids.length; i += 200) {
        const chunk = ids.slice(i, i + 200);
        const states = await Promise.all(chunk.map((id) => queue.getJobState(id)));
        for (const [k, state] of states.entries()) {
          const id = chunk[k];
          const entry = pending.get(id)!;
          if (state === "completed") {
            const job = await queue.getJob(id);
            const rows = job?.returnvalue;
            if (!Array.isArray(rows)) continue;
            rowsOf.set(
              entry.index,
              rows.map((row) => ({
                ...row,
                runIndex: entry.index,
                presetSet: entry.params.presetSet,
              })),
            );
            pending.delete(id);
          } else if (state === "failed") {
            const job = await queue.getJob(id);
            // A run that failed in an earlier sweep gets its attempts again in this one.
            if (job && (job.finishedOn ?? 0) < startedMs && !retried.has(id)) {
              retried.add(id);
              await job.retry("failed");
              continue;
            }
            failures.push(
              `run ${entry.id} (${describeEntry(entry)}): ${job?.failedReason ?? "failed"}`,
            );
            pending.delete(id);
          } else if (state === "unknown") {
            // Removed from Redis meanwhile (by hand): queued again.
            await add([entry]);
          }
        }
      }
      options.onProgress?.(entries.length - pending.size, entries.length);
      // Every pending job's state is read each time: big sweeps read less often.
      const pollMs = options.pollMs ?? Math.min(10_000, Math.max(500, pending.size));
      if (pending.size > 0) await sleep(pollMs, options.signal);
    }
    if (failures.length > 0)
      throw new ProxkitError(
        "E_SWEEP_RUNS",
        `${failures.length} of ${entries.length} runs failed after ${options.attempts} attempts (submit the sweep again to retry them):\n  ${failures.slice(0, 10).join("\n  ")}${failures.length > 10 ? "\n  ..." : ""}`,
        { isInputError: false },
      );
    return entries.flatMap((e) => rowsOf.get(e.index) ?? []);
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

export interface QueueWorkerOptions {
  readonly url: URL;
  /** Runs at a time, each in its own child process. */
  readonly concurrency: number;
  /** Run folders under this folder instead of the submitter's --out. */
  readonly out?: string;
  /** How long a job's lock lasts without renewal (renewed every half of it). */
  readonly lockDurationMs: number;
  /** How often stalled jobs (locks expired: their worker died) are looked for. */
  readonly stalledIntervalMs: number;
  /** Stalls before a run fails for good. */
  readonly maxStalledCount: number;
  readonly log: (line: string) => void;
}

export interface QueueWorker {
  /** Stops taking runs; `force` abandons the runs in progress (they stall and go to another worker). */
  close(force?: boolean): Promise<void>;
  /** Runs taken and finished by this worker so far. */
  readonly finished: () => number;
}

export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const connection = await connectRedis(options.url);
  const pool = new RunPool(options.concurrency);
  let finished = 0;
  const processor = async (job: Job<SweepJobData, SweepResultRow[]>) => {
    const { entry, out, runReports } = job.data;
    const dir = join(options.out ?? out, "runs", entry.id);
    options.log(
      `run ${entry.id} started (${describeEntry(entry)}; attempt ${job.attemptsMade + 1}, stalls ${job.stalledCounter})`,
    );
    const t0 = performance.now();
    const rows = await pool.run(entry, dir, { report: runReports });
    finished++;
    options.log(`run ${entry.id} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return rows;
  };
  const worker = new Worker<SweepJobData, SweepResultRow[]>(SWEEP_QUEUE, processor, {
    connection,
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    maxStalledCount: options.maxStalledCount,
  });
  worker.on("failed", (job, error) => {
    if (job) options.log(`run ${job.data.entry.id} failed: ${error.message}`);
  });
  worker.on("error", (error) => options.log(`queue: ${error.message}`));
  await worker.waitUntilReady();
  return {
    finished: () => finished,
    async close(force = false) {
      if (force) pool.close();
      await worker.close(force);
      pool.close();
      connection.disconnect();
    },
  };
}
