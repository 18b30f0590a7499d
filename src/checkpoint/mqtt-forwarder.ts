/**
 * Forwards the checkpoint's outbox to an MQTT broker: QoS 1, in id order. With a receipt key a
 * row is deleted only once the collector's signed receipt says the window is in its database
 * (which comes after the broker's PUBACK); receipts that do not verify delete nothing. Without a
 * key a row is deleted at the broker's PUBACK (`confirm: "puback"`), so no unauthenticated
 * message can delete anything. The outbox table is the whole state, so a broker outage of any
 * length, a broker crash (with receipts) or a process restart loses nothing; what was in doubt
 * is sent again, and the collector stores each window once.
 */
import type Database from "better-sqlite3";
import { connect, type MqttClient } from "mqtt";
import { type Clock, systemClock } from "../core/clock.js";
import { ConfigError, StoreError } from "../core/errors.js";
import { cryptoRandom, type Random } from "../core/random.js";
import { type MqttConnectionOptions, mqttConnectOptions } from "./mqtt-connection.js";
import { type ReceiptKey, receiptAlgorithm, verifyReceipt } from "./receipt-signature.js";

/** The longest wait for receipts before unconfirmed windows are sent again. */
const MAX_RESEND_DELAY_MS = 3_600_000;

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

/** Where the collector confirms the windows of a `.../windows` topic: `.../receipts`. */
export function receiptsTopic(windowsTopicName: string): string | undefined {
  return windowsTopicName.endsWith("/windows")
    ? `${windowsTopicName.slice(0, -"/windows".length)}/receipts`
    : undefined;
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
  /**
   * Receipts that did not verify (unsigned, another algorithm, a bad signature, malformed):
   * nothing was deleted. Reported at once, then at most once per `receiptRejectReportMs`;
   * `count` is how many were rejected since the last report, `reason` is the latest one's.
   */
  | {
      readonly state: "receipt-rejected";
      readonly atMs: number;
      readonly topic: string;
      readonly reason: string;
      readonly count: number;
    }
  | { readonly state: "stopped"; readonly atMs: number };

export interface MqttForwarderOptions {
  /** The broker, `mqtt://host:1883` (also mqtts, ws, wss). */
  readonly url: string;
  /** User name, password, CA and client certificate (see `mqtt-connection.ts`). */
  readonly connection?: MqttConnectionOptions;
  /**
   * The key that checks the collector's receipts: its Ed25519 public key or the fleet's HMAC
   * secret. With it rows wait for a signed receipt (`confirm` defaults to `"receipt"`);
   * without it `confirm` must be `"puback"` (the default).
   */
  readonly receiptKey?: ReceiptKey;
  /** Rejected receipts are reported at most this often (the first at once). Default 60 s. */
  readonly receiptRejectReportMs?: number;
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
  /**
   * When a row may leave the outbox. `"receipt"` (the default with a `receiptKey`, and only
   * allowed with one): when the collector (`proxkit collect`) reports the window stored in a
   * receipt signed with the fleet's key, so a broker crash that loses acknowledged messages
   * loses no window. `"puback"` (the default without a key): at the broker's PUBACK.
   */
  readonly confirm?: "receipt" | "puback";
  /** With receipts: windows published and not yet confirmed, at most. Default 1000. */
  readonly maxUnconfirmed?: number;
  /**
   * With receipts: when no receipt at all has come for this long, the unconfirmed windows are
   * sent again (they may have reached a broker before any collector subscribed); the wait
   * doubles each time, up to an hour. Default 60 s.
   */
  readonly receiptTimeoutMs?: number;
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
  private readonly connectOptions: ReturnType<typeof mqttConnectOptions>["options"];
  private readonly receiptKey: ReceiptKey | undefined;
  private readonly receiptRejectReportMs: number;
  /** Rejected receipts not yet reported, and when the last report went out (performance.now()). */
  private rejectedReceipts = 0;
  private lastRejectReport = Number.NEGATIVE_INFINITY;
  private rejectReportTimer: NodeJS.Timeout | undefined;
  private lastRejected: { topic: string; reason: string } | undefined;
  private readonly clientId: string;
  private readonly clock: Clock;
  private readonly batch: number;
  private readonly maxInflight: number;
  private readonly pollMs: number;
  private readonly drainMs: number;
  private readonly confirm: "receipt" | "puback";
  private readonly maxUnconfirmed: number;
  private readonly receiptTimeoutMs: number;
  private readonly backoff: ReconnectBackoff;
  private readonly onState: (state: ForwarderState) => void;
  private readonly selectAfter: Database.Statement<[number, number], OutboxRow>;
  private readonly countRows: Database.Statement<[], { n: number }>;
  private readonly distinctTopics: Database.Statement<[], { topic: string }>;
  private readonly deleteAcked: (ids: readonly number[]) => void;

  private client: MqttClient | undefined;
  /** Increments with every connection, so callbacks of an old one are told apart. */
  private session = 0;
  private running = false;
  /** Highest outbox id published on the current connection; rows after it are next. */
  private cursorId = 0;
  private inflight = 0;
  private acked: number[] = [];
  /** With receipts: window id → outbox rows published on this connection, awaiting the receipt. */
  private unconfirmed = new Map<string, number[]>();
  /** Receipt topics subscribed on this connection. */
  private receiptTopics = new Set<string>();
  private resendTimer: NodeJS.Timeout | undefined;
  private resendDelayMs: number;
  private receiptSinceArmed = false;
  private pumping = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private deleteScheduled: NodeJS.Immediate | undefined;
  private drained: (() => void) | undefined;

  constructor(db: Database.Database, options: MqttForwarderOptions) {
    const connection = mqttConnectOptions(options.url, options.connection);
    this.db = db;
    this.url = connection.url;
    this.connectOptions = connection.options;
    this.receiptKey = options.receiptKey;
    this.receiptRejectReportMs = options.receiptRejectReportMs ?? 60_000;
    this.clientId =
      options.clientId ?? `proxkit-forwarder-${Buffer.from(cryptoRandom.bytes(4)).toString("hex")}`;
    this.clock = options.clock ?? systemClock;
    this.batch = positiveInteger(options.batch, 100, "batch");
    this.maxInflight = positiveInteger(options.maxInflight, 100, "maxInflight");
    this.pollMs = positiveInteger(options.pollMs, 1000, "pollMs");
    this.drainMs = options.drainMs ?? 1000;
    this.confirm = options.confirm ?? (this.receiptKey ? "receipt" : "puback");
    if (this.confirm !== "receipt" && this.confirm !== "puback")
      throw new ConfigError(`confirm must be "receipt" or "puback", got ${this.confirm}`);
    if (this.confirm === "receipt" && !this.receiptKey)
      throw new ConfigError(
        'confirm: "receipt" needs a receiptKey (the collector\'s public key or the fleet secret): unsigned receipts would let anyone on the broker delete the outbox',
        "E_RECEIPT_KEY",
      );
    this.maxUnconfirmed = positiveInteger(options.maxUnconfirmed, 1000, "maxUnconfirmed");
    this.receiptTimeoutMs = positiveInteger(options.receiptTimeoutMs, 60_000, "receiptTimeoutMs");
    this.resendDelayMs = this.receiptTimeoutMs;
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
      this.distinctTopics = db.prepare<[], { topic: string }>("SELECT DISTINCT topic FROM outbox");
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

  /** Rows in the outbox: not yet confirmed, whether published or not. */
  get depth(): number {
    return this.countRows.get()!.n;
  }

  /** Windows published on this connection and awaiting their receipt. */
  get awaitingReceipt(): number {
    return this.unconfirmed.size;
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
    clearTimeout(this.resendTimer);
    clearTimeout(this.rejectReportTimer);
    this.retryTimer = undefined;
    this.pollTimer = undefined;
    this.resendTimer = undefined;
    this.rejectReportTimer = undefined;
    this.reportRejectedReceipts();
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
      ...this.connectOptions,
      clientId: this.clientId,
      clean: true,
      // MQTT 5: a PUBACK carries a reason code, so a publication the broker's ACL refuses is an
      // error here (the row stays), not a silent "delivered" that would delete it (3.1.1).
      protocolVersion: 5,
      // We reconnect ourselves, with backoff, on a fresh client: the outbox is the only queue.
      reconnectPeriod: 0,
      connectTimeout: 15_000,
      keepalive: 30,
      queueQoSZero: false,
    });
    this.client = client;
    let lastError = "connection closed";
    client.on("error", (error) => {
      lastError = connectionErrorReason(error);
    });
    client.on("message", (topic, payload) => {
      if (session === this.session) this.receipt(topic, payload);
    });
    client.on("connect", () => {
      if (session !== this.session) return;
      this.backoff.reset();
      // Rows confirmed on the last connection go first, or they would be sent again. The
      // rest is sent again from the start: receipts may have been lost with the connection.
      this.flushDeletes();
      this.cursorId = 0;
      this.inflight = 0;
      this.unconfirmed.clear();
      this.receiptTopics.clear();
      this.onState({ state: "connected", atMs: this.clock.nowMs() });
      if (this.confirm === "puback") {
        this.pump();
        return;
      }
      // Listen for receipts before publishing what they would confirm.
      const topics = this.distinctTopics
        .all()
        .map((row) => receiptsTopic(row.topic))
        .filter((topic): topic is string => topic !== undefined && isPublishTopic(topic));
      for (const topic of topics) this.receiptTopics.add(topic);
      if (topics.length === 0) this.pump();
      else
        client.subscribe(topics, { qos: 1 }, () => {
          if (session === this.session) this.pump();
        });
    });
    client.on("close", () => {
      if (session !== this.session) return;
      this.session++;
      this.client = undefined;
      this.inflight = 0;
      clearTimeout(this.pollTimer);
      clearTimeout(this.resendTimer);
      this.pollTimer = undefined;
      this.resendTimer = undefined;
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
      while (this.inflight < this.maxInflight && this.unconfirmedRoom() > 0) {
        const rows = this.selectAfter.all(
          this.cursorId,
          Math.min(this.batch, this.maxInflight - this.inflight, this.unconfirmedRoom()),
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
          if (this.confirm === "receipt") {
            const ready = this.awaitReceipt(client, row);
            if (ready === "skip") continue;
            if (ready === "subscribing") {
              // Its receipts topic is new: publish once the broker has the subscription.
              this.cursorId = row.id - 1;
              return;
            }
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
    this.armResend();
    if (this.inflight === 0 && this.pollTimer === undefined && this.running)
      this.pollTimer = setTimeout(() => {
        this.pollTimer = undefined;
        this.pump();
      }, this.pollMs);
  }

  /** Publishes still allowed before receipts must come back. */
  private unconfirmedRoom(): number {
    return this.confirm === "receipt"
      ? this.maxUnconfirmed - this.unconfirmed.size
      : Number.POSITIVE_INFINITY;
  }

  /** Registers a row as awaiting its receipt: "skip" (and a `rejected` state) if it never could. */
  private awaitReceipt(client: MqttClient, row: OutboxRow): "ready" | "skip" | "subscribing" {
    let windowId: unknown;
    try {
      windowId = (JSON.parse(row.payload) as { id?: unknown }).id;
    } catch {
      windowId = undefined;
    }
    const topic = receiptsTopic(row.topic);
    if (typeof windowId !== "string" || windowId === "" || topic === undefined) {
      this.onState({
        state: "rejected",
        atMs: this.clock.nowMs(),
        rowId: row.id,
        reason:
          topic === undefined
            ? `${JSON.stringify(row.topic)} is not a .../windows topic, so no receipt can confirm it`
            : 'the payload has no "id" for a receipt to name',
      });
      return "skip";
    }
    if (!this.receiptTopics.has(topic)) {
      this.receiptTopics.add(topic);
      const session = this.session;
      client.subscribe(topic, { qos: 1 }, () => {
        if (session === this.session) this.pump();
      });
      return "subscribing";
    }
    const rows = this.unconfirmed.get(windowId);
    if (rows) rows.push(row.id);
    else this.unconfirmed.set(windowId, [row.id]);
    return "ready";
  }

  /**
   * A collector's receipt `{"ids": [...], "alg": ..., "sig": ...}`: if its signature verifies
   * with the receipt key, the rows of those windows may go; otherwise nothing is deleted and
   * the rejection is reported (rate-limited).
   */
  private receipt(topic: string, payload: Buffer): void {
    if (!this.receiptTopics.has(topic) || !this.receiptKey) return;
    const checked = verifyReceipt(this.receiptKey, topic, payload);
    if (!checked.ok) {
      this.rejectReceipt(topic, checked.reason);
      return;
    }
    for (const id of checked.ids) {
      const rows = typeof id === "string" ? this.unconfirmed.get(id) : undefined;
      if (!rows) continue;
      this.unconfirmed.delete(id);
      this.acked.push(...rows);
    }
    this.receiptSinceArmed = true;
    this.resendDelayMs = this.receiptTimeoutMs;
    this.scheduleDeletes();
    if (this.unconfirmed.size <= this.maxUnconfirmed / 2) queueMicrotask(() => this.pump());
  }

  /** Counts a rejected receipt; reports at once, or once the report interval has passed. */
  private rejectReceipt(topic: string, reason: string): void {
    this.rejectedReceipts++;
    this.lastRejected = { topic, reason };
    const sinceMs = performance.now() - this.lastRejectReport;
    if (sinceMs >= this.receiptRejectReportMs) this.reportRejectedReceipts();
    else
      this.rejectReportTimer ??= setTimeout(() => {
        this.rejectReportTimer = undefined;
        this.reportRejectedReceipts();
      }, this.receiptRejectReportMs - sinceMs);
  }

  private reportRejectedReceipts(): void {
    if (this.rejectedReceipts === 0 || !this.lastRejected) return;
    this.onState({
      state: "receipt-rejected",
      atMs: this.clock.nowMs(),
      topic: this.lastRejected.topic,
      reason: this.lastRejected.reason,
      count: this.rejectedReceipts,
    });
    this.rejectedReceipts = 0;
    this.lastRejectReport = performance.now();
  }

  /** The signature scheme receipts must use, or undefined when rows go at PUBACK. */
  get receiptAlgorithm(): string | undefined {
    return this.confirm === "receipt" && this.receiptKey
      ? receiptAlgorithm(this.receiptKey)
      : undefined;
  }

  /**
   * Watches for receipts while windows await them. A whole timeout without any means the
   * windows may have gone where no collector listened: send them again, waiting longer each
   * time so an absent collector does not fill the broker's queue with copies.
   */
  private armResend(): void {
    if (this.resendTimer || this.unconfirmed.size === 0 || !this.running) return;
    this.receiptSinceArmed = false;
    this.resendTimer = setTimeout(() => {
      this.resendTimer = undefined;
      if (!this.client?.connected || this.unconfirmed.size === 0) return;
      if (!this.receiptSinceArmed) {
        this.resendDelayMs = Math.min(this.resendDelayMs * 2, MAX_RESEND_DELAY_MS);
        this.unconfirmed.clear();
        this.cursorId = 0;
      }
      this.pump();
    }, this.resendDelayMs);
  }

  private scheduleDeletes(): void {
    if (this.acked.length === 0) return;
    this.deleteScheduled ??= setImmediate(() => {
      this.deleteScheduled = undefined;
      this.flushDeletes();
    });
  }

  private published(session: number, rowId: number, error: Error | undefined): void {
    if (!error && this.confirm === "puback") {
      this.acked.push(rowId);
      this.scheduleDeletes();
    }
    if (session !== this.session) return;
    this.inflight--;
    if (error && this.client?.connected)
      this.onState({ state: "rejected", atMs: this.clock.nowMs(), rowId, reason: error.message });
    if (this.inflight === 0) this.drained?.();
    // Refill when half the window is free: one outbox query per burst, not one per PUBACK.
    if (this.inflight <= this.maxInflight / 2) queueMicrotask(() => this.pump());
  }

  /** Deletes confirmed rows in one transaction. */
  private flushDeletes(): void {
    if (this.acked.length === 0 || !this.db.open) return;
    const ids = this.acked;
    this.acked = [];
    this.deleteAcked(ids);
  }
}

/**
 * Why a connection failed, in one line: a system error's code (ECONNREFUSED), a TLS failure's
 * code and message, or the broker's refusal ("Connection refused: Not authorized").
 */
export function connectionErrorReason(error: Error): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string") return error.message;
  if (/^E[A-Z]+$/.test(code) || error.message.includes(code)) return code;
  return `${code}: ${error.message}`;
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
