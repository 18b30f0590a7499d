/**
 * Forwards the checkpoint's outbox to an MQTT broker: QoS 1, in id order, a row deleted only
 * after its PUBACK. The outbox table is the whole state, so a broker outage of any length or a
 * process restart loses nothing; a crash between PUBACK and delete re-sends a window, which the
 * collector stores once.
 */
import type Database from "better-sqlite3";
import { connect, type MqttClient } from "mqtt";
import { type Clock, systemClock } from "../core/clock.js";
import { ConfigError, StoreError } from "../core/errors.js";
import { cryptoRandom, type Random } from "../core/random.js";

/** The URL schemes MQTT.js can connect with. */
export const MQTT_URL_PROTOCOLS = ["mqtt:", "mqtts:", "tcp:", "ssl:", "ws:", "wss:"] as const;

/** Checks an MQTT broker URL (`mqtt://host:1883`), throwing a `ConfigError` naming `what`. */
export function parseMqttUrl(url: string, what = "the MQTT URL"): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(
      `${what} ${JSON.stringify(url)} is not a URL; give one like mqtt://broker.example:1883`,
      "E_MQTT_URL",
    );
  }
  if (!(MQTT_URL_PROTOCOLS as readonly string[]).includes(parsed.protocol) || !parsed.hostname)
    throw new ConfigError(
      `${what} ${JSON.stringify(url)} must be ${MQTT_URL_PROTOCOLS.map((p) => `${p}//host`).join(", ")}`,
      "E_MQTT_URL",
    );
  return parsed;
}

const TOPIC_LEVEL = /^[^/+#\p{Cc}]+$/u;

/** The topic a checkpoint publishes its closed windows to: `proxkit/<site>/<checkpoint>/windows`. */
export function windowsTopic(site: string, checkpoint: string): string {
  for (const [what, level] of [
    ["site", site],
    ["checkpoint", checkpoint],
  ] as const) {
    if (!TOPIC_LEVEL.test(level))
      throw new ConfigError(
        `the ${what} name ${JSON.stringify(level)} cannot be an MQTT topic level: it must be non-empty without "/", "+" or "#"`,
        "E_MQTT_TOPIC",
      );
  }
  return `proxkit/${site}/${checkpoint}/windows`;
}

/** A topic a client may publish to (MQTT 3.1.1 §4.7): non-empty, no wildcards, no NUL, ≤ 65535 bytes. */
function isPublishTopic(topic: string): boolean {
  return (
    topic !== "" &&
    !/[+#]/.test(topic) &&
    !topic.includes("\u0000") &&
    Buffer.byteLength(topic) <= 65_535
  );
}

/** Site and checkpoint of a `proxkit/<site>/<checkpoint>/windows` topic, or `undefined`. */
export function parseWindowsTopic(topic: string): { site: string; checkpoint: string } | undefined {
  const levels = topic.split("/");
  if (levels.length !== 4 || levels[0] !== "proxkit" || levels[3] !== "windows") return undefined;
  const [, site, checkpoint] = levels;
  if (!TOPIC_LEVEL.test(site) || !TOPIC_LEVEL.test(checkpoint)) return undefined;
  return { site, checkpoint };
}

/**
 * Capped exponential backoff with "equal jitter": attempt n waits between half and all of
 * min(maxMs, minMs * 2^n), so a fleet that lost the same broker does not return in step.
 */
export class ReconnectBackoff {
  private attempt = 0;

  constructor(
    readonly minMs: number,
    readonly maxMs: number,
    private readonly random: Random = cryptoRandom,
  ) {}

  /** Failed attempts since the last success. */
  get attempts(): number {
    return this.attempt;
  }

  /** The wait before the next attempt; counts one more failure. */
  nextDelayMs(): number {
    const ceilingMs = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(ceilingMs / 2 + (this.random.float() * ceilingMs) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** What the forwarder is doing, for logs and `checkpoint status`. */
export type ForwarderState =
  | { readonly state: "connecting"; readonly atMs: number; readonly attempt: number }
  | { readonly state: "connected"; readonly atMs: number }
  | {
      readonly state: "disconnected";
      readonly atMs: number;
      /** Why the connection ended or could not be made. */
      readonly reason: string;
      readonly retryInMs: number;
    }
  /** A row that cannot be published (a wildcard topic): skipped, left in the outbox, reported once per connection. */
  | {
      readonly state: "rejected";
      readonly atMs: number;
      readonly rowId: number;
      readonly reason: string;
    }
  | { readonly state: "stopped"; readonly atMs: number };

export interface MqttForwarderOptions {
  /** The broker, `mqtt://host:1883` (also mqtts, ws, wss; user:password@ in the URL if needed). */
  readonly url: string;
  /** Default `proxkit-forwarder-<random>`; the session is clean, the outbox holds the state. */
  readonly clientId?: string;
  /** Timestamps of state events. Default the system clock. */
  readonly clock?: Clock;
  /** Jitter of the reconnect backoff. Default the CSPRNG. */
  readonly random?: Random;
  /** Rows read from the outbox per query. Default 100. */
  readonly batch?: number;
  /** Publishes awaiting their PUBACK at once. Default 100. */
  readonly maxInflight?: number;
  /** First reconnect delay. Default 1 s. */
  readonly minBackoffMs?: number;
  /** Reconnect delay cap. Default 60 s. */
  readonly maxBackoffMs?: number;
  /** How often an idle connection looks for new outbox rows (`wake()` looks at once). Default 1 s. */
  readonly pollMs?: number;
  /** How long `stop()` waits for outstanding PUBACKs. Default 1 s. */
  readonly drainMs?: number;
  readonly onState?: (state: ForwarderState) => void;
}

interface OutboxRow {
  id: number;
  topic: string;
  payload: string;
}

function positiveInteger(value: number | undefined, fallback: number, what: string): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError(`${what} must be a whole number ≥ 1, got ${n}`, "E_RANGE");
  return n;
}

/** Publishes the `outbox` table (see the checkpoint schema) to an MQTT broker. */
export class MqttForwarder {
  private readonly db: Database.Database;
  private readonly url: string;
  private readonly clientId: string;
  private readonly clock: Clock;
  private readonly batch: number;
  private readonly maxInflight: number;
  private readonly pollMs: number;
  private readonly drainMs: number;
  private readonly backoff: ReconnectBackoff;
  private readonly onState: (state: ForwarderState) => void;
  private readonly selectAfter: Database.Statement<[number, number], OutboxRow>;
  private readonly countRows: Database.Statement<[], { n: number }>;
  private readonly deleteAcked: (ids: readonly number[]) => void;

  private client: MqttClient | undefined;
  /** Increments with every connection, so callbacks of an old one are told apart. */
  private session = 0;
  private running = false;
  /** Highest outbox id published on the current connection; rows after it are next. */
  private cursorId = 0;
  private inflight = 0;
  private acked: number[] = [];
  private pumping = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private deleteScheduled: NodeJS.Immediate | undefined;
  private drained: (() => void) | undefined;

  constructor(db: Database.Database, options: MqttForwarderOptions) {
    parseMqttUrl(options.url, "--mqtt");
    this.db = db;
    this.url = options.url;
    this.clientId =
      options.clientId ?? `proxkit-forwarder-${Buffer.from(cryptoRandom.bytes(4)).toString("hex")}`;
    this.clock = options.clock ?? systemClock;
    this.batch = positiveInteger(options.batch, 100, "batch");
    this.maxInflight = positiveInteger(options.maxInflight, 100, "maxInflight");
    this.pollMs = positiveInteger(options.pollMs, 1000, "pollMs");
    this.drainMs = options.drainMs ?? 1000;
    this.backoff = new ReconnectBackoff(
      positiveInteger(options.minBackoffMs, 1000, "minBackoffMs"),
      positiveInteger(options.maxBackoffMs, 60_000, "maxBackoffMs"),
      options.random,
    );
    this.onState = options.onState ?? (() => {});
    try {
      this.selectAfter = db.prepare<[number, number], OutboxRow>(
        "SELECT id, topic, payload FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
      );
      this.countRows = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM outbox");
      const remove = db.prepare<[number]>("DELETE FROM outbox WHERE id = ?");
      this.deleteAcked = db.transaction((ids: readonly number[]) => {
        for (const id of ids) remove.run(id);
      });
    } catch (error) {
      throw new StoreError(
        `the checkpoint database has no usable outbox table: ${(error as Error).message}`,
        "E_STORE_SCHEMA",
        { cause: error },
      );
    }
  }

  /** Rows waiting in the outbox, published or not. */
  get depth(): number {
    return this.countRows.get()!.n;
  }

  /** True while a connection to the broker is up. */
  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Starts connecting; resolves at once (an unreachable broker is retried, never fatal). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.backoff.reset();
    this.connectNow();
  }

  /** Publishes new outbox rows now instead of at the next poll. */
  wake(): void {
    if (this.running && this.client?.connected) this.pump();
  }

  /**
   * Waits up to `drainMs` for outstanding PUBACKs, deletes what was acknowledged, then closes the
   * connection and clears every timer, so nothing keeps the process alive.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.retryTimer);
    clearTimeout(this.pollTimer);
    this.retryTimer = undefined;
    this.pollTimer = undefined;
    const client = this.client;
    if (client?.connected && this.inflight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.drainMs);
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.drained = undefined;
    }
    this.session++;
    this.client = undefined;
    if (client) await closeClient(client, this.inflight === 0, this.drainMs);
    this.inflight = 0;
    clearImmediate(this.deleteScheduled);
    this.deleteScheduled = undefined;
    this.flushDeletes();
    this.onState({ state: "stopped", atMs: this.clock.nowMs() });
  }

  private connectNow(): void {
    this.retryTimer = undefined;
    if (!this.running) return;
    const session = ++this.session;
    this.onState({
      state: "connecting",
      atMs: this.clock.nowMs(),
      attempt: this.backoff.attempts + 1,
    });
    const client = connect(this.url, {
      clientId: this.clientId,
      clean: true,
      // We reconnect ourselves, with backoff, on a fresh client: the outbox is the only queue.
      reconnectPeriod: 0,
      connectTimeout: 15_000,
      keepalive: 30,
      queueQoSZero: false,
    });
    this.client = client;
    let lastError = "connection closed";
    client.on("error", (error) => {
      lastError = (error as NodeJS.ErrnoException).code ?? error.message;
    });
    client.on("connect", () => {
      if (session !== this.session) return;
      this.backoff.reset();
      // Rows acknowledged on the last connection go first, or they would be sent again.
      this.flushDeletes();
      this.cursorId = 0;
      this.inflight = 0;
      this.onState({ state: "connected", atMs: this.clock.nowMs() });
      this.pump();
    });
    client.on("close", () => {
      if (session !== this.session) return;
      this.session++;
      this.client = undefined;
      this.inflight = 0;
      clearTimeout(this.pollTimer);
      this.pollTimer = undefined;
      // Fails the callbacks of unacknowledged publishes; their rows are sent again next time.
      client.end(true);
      if (!this.running) return;
      const retryInMs = this.backoff.nextDelayMs();
      this.onState({
        state: "disconnected",
        atMs: this.clock.nowMs(),
        reason: lastError,
        retryInMs,
      });
      this.retryTimer = setTimeout(() => this.connectNow(), retryInMs);
    });
  }

  /** Publishes outbox rows after the cursor until `maxInflight` are awaiting their PUBACK. */
  private pump(): void {
    const client = this.client;
    if (this.pumping || !this.running || !client?.connected) return;
    this.pumping = true;
    const session = this.session;
    try {
      while (this.inflight < this.maxInflight) {
        const rows = this.selectAfter.all(
          this.cursorId,
          Math.min(this.batch, this.maxInflight - this.inflight),
        );
        if (rows.length === 0) break;
        for (const row of rows) {
          this.cursorId = row.id;
          if (!isPublishTopic(row.topic)) {
            // A broker disconnects a client that publishes to a wildcard: skip the row rather
            // than lose the connection over it again and again. It stays in the outbox.
            this.onState({
              state: "rejected",
              atMs: this.clock.nowMs(),
              rowId: row.id,
              reason: `${JSON.stringify(row.topic)} is not a topic one can publish to`,
            });
            continue;
          }
          this.inflight++;
          client.publish(row.topic, row.payload, { qos: 1 }, (error) =>
            this.published(session, row.id, error),
          );
        }
      }
    } finally {
      this.pumping = false;
    }
    if (this.inflight === 0 && this.pollTimer === undefined && this.running)
      this.pollTimer = setTimeout(() => {
        this.pollTimer = undefined;
        this.pump();
      }, this.pollMs);
  }

  private published(session: number, rowId: number, error: Error | undefined): void {
    if (!error) {
      this.acked.push(rowId);
      this.deleteScheduled ??= setImmediate(() => {
        this.deleteScheduled = undefined;
        this.flushDeletes();
      });
    }
    if (session !== this.session) return;
    this.inflight--;
    if (error && this.client?.connected)
      this.onState({ state: "rejected", atMs: this.clock.nowMs(), rowId, reason: error.message });
    if (this.inflight === 0) this.drained?.();
    // Refill when half the window is free: one outbox query per burst, not one per PUBACK.
    if (this.inflight <= this.maxInflight / 2) queueMicrotask(() => this.pump());
  }

  /** Deletes acknowledged rows in one transaction. */
  private flushDeletes(): void {
    if (this.acked.length === 0 || !this.db.open) return;
    const ids = this.acked;
    this.acked = [];
    this.deleteAcked(ids);
  }
}

/**
 * Ends a client politely (DISCONNECT) when nothing is outstanding, otherwise (or when the broker
 * does not answer in time) by closing the socket.
 */
async function closeClient(client: MqttClient, polite: boolean, timeoutMs: number): Promise<void> {
  if (!client.connected || !polite) {
    await client.endAsync(true);
    return;
  }
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      client.stream?.destroy();
      resolve();
    }, timeoutMs);
    client.end(false, {}, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
