/**
 * The fleet collector: subscribes to the checkpoints' window topics with a persistent session
 * (QoS 1, clean=false, a fixed client id: the broker queues windows while the collector is
 * away) and stores each window once, keyed by its id. A window is committed to SQLite before
 * its PUBACK leaves, so the broker forgets only what is on disk; then, with a receipt key, a
 * signed receipt naming it goes to `proxkit/<site>/<checkpoint>/receipts`, and only then does a
 * checkpoint holding the matching key delete it. Without a key no receipts are sent: checkpoints
 * without a key delete at the broker's PUBACK, and those with one accept only signed receipts.
 */
import { chmodSync, closeSync, openSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { connect, type IPublishPacket, type MqttClient } from "mqtt";
import { type Clock, systemClock } from "../core/clock.js";
import { ConfigError, StoreError } from "../core/errors.js";
import { type MqttConnectionOptions, mqttConnectOptions } from "./mqtt-connection.js";
import {
  connectionErrorReason,
  parseWindowsTopic,
  ReconnectBackoff,
  receiptsTopic,
} from "./mqtt-forwarder.js";
import { canSignReceipts, type ReceiptKey, signReceipt } from "./receipt-signature.js";
import { COLLECTOR_APPLICATION_ID } from "./schema.js";

/** Every checkpoint of every site. */
export const DEFAULT_COLLECT_TOPIC = "proxkit/+/+/windows";

/** Window ids per receipt message. */
const RECEIPT_IDS = 500;
/** Receipts are gathered this long, then sent as one message per checkpoint. */
const RECEIPT_DELAY_MS = 20;
/** Larger payloads are not windows. */
const MAX_PAYLOAD_BYTES = 1 << 20;
const MAX_WINDOW_ID_CHARS = 512;

/** Schema versions in order; `PRAGMA user_version` is how many have been applied. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE collected_windows (
     id TEXT PRIMARY KEY,
     site TEXT NOT NULL,
     checkpoint TEXT NOT NULL,
     payload TEXT NOT NULL,
     received_ms INTEGER NOT NULL
   );
   CREATE INDEX collected_windows_by_checkpoint
     ON collected_windows (site, checkpoint, received_ms);`,
];

/** Checks an MQTT topic filter (`+` and `#` only as whole levels, `#` only last). */
export function validateTopicFilter(filter: string, what = "topic filter"): string {
  const levels = filter.split("/");
  const bad = levels.findIndex(
    (level, i) =>
      level.includes("\u0000") ||
      (level.includes("+") && level !== "+") ||
      (level.includes("#") && (level !== "#" || i !== levels.length - 1)),
  );
  if (filter === "" || bad !== -1)
    throw new ConfigError(
      `${what} ${JSON.stringify(filter)} is not an MQTT topic filter: "+" and "#" must be whole levels, "#" only the last (e.g. ${DEFAULT_COLLECT_TOPIC})`,
      "E_MQTT_TOPIC",
    );
  return filter;
}

/** Opens (creating with mode 0600) a SQLite file in WAL mode; bad paths are a `ConfigError`. */
function openDatabaseFile(path: string): Database.Database {
  const folder = dirname(resolve(path));
  try {
    if (!statSync(folder).isDirectory()) throw new Error("not a folder");
  } catch {
    throw new ConfigError(`${path}: the folder ${folder} does not exist`, "E_DB_PATH");
  }
  try {
    closeSync(openSync(path, "wx", 0o600));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EEXIST")
      throw new ConfigError(
        `${path}: cannot create the file (${code ?? (error as Error).message})`,
        "E_DB_PATH",
      );
  }
  try {
    if (statSync(path).mode & 0o077) chmodSync(path, 0o600);
  } catch {
    // Not ours to chmod (another owner): SQLite will say whether it can write.
  }
  try {
    const db = new Database(path);
    db.pragma("journal_mode = WAL");
    // Each window is on disk before its PUBACK leaves, or the broker would forget it too early.
    db.pragma("synchronous = FULL");
    db.pragma("busy_timeout = 5000");
    return db;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "SQLITE_NOTADB")
      throw new ConfigError(`${path} is not a SQLite database`, "E_DB_FORMAT");
    if (code === "SQLITE_CANTOPEN" || code === "SQLITE_READONLY" || code === "SQLITE_PERM")
      throw new ConfigError(`${path}: cannot open it for writing (${code})`, "E_DB_PATH");
    throw new StoreError(`${path}: ${(error as Error).message}`, "E_STORE", { cause: error });
  }
}

/** What became of one message. */
export type StoreOutcome =
  | { readonly kind: "stored"; readonly id: string }
  | { readonly kind: "duplicate"; readonly id: string }
  | { readonly kind: "rejected"; readonly reason: string };

/** The collector's database: one row per window id, whatever number of times it arrived. */
export class CollectorStore {
  /** The schema version this code writes. */
  static readonly SCHEMA_VERSION = MIGRATIONS.length;

  readonly db: Database.Database;
  private readonly insert: Database.Statement<[string, string, string, string, number]>;
  private readonly countRows: Database.Statement<[], { n: number }>;
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });

  constructor(
    readonly path: string,
    private readonly clock: Clock = systemClock,
  ) {
    this.db = openDatabaseFile(path);
    try {
      this.migrate();
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.insert = this.db.prepare(
      "INSERT OR IGNORE INTO collected_windows (id, site, checkpoint, payload, received_ms) VALUES (?, ?, ?, ?, ?)",
    );
    this.countRows = this.db.prepare("SELECT count(*) AS n FROM collected_windows");
  }

  private migrate(): void {
    const version = this.db.pragma("user_version", { simple: true }) as number;
    const applicationId = this.db.pragma("application_id", { simple: true }) as number;
    const tables = this.db
      .prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'")
      .get() as { n: number };
    if (
      (version === 0 && tables.n > 0) ||
      (version > 0 && applicationId !== COLLECTOR_APPLICATION_ID)
    )
      throw new ConfigError(
        `${this.path} is a database of something else (a checkpoint's?), not a collector's: give a new file`,
        "E_DB_FORMAT",
      );
    if (version > MIGRATIONS.length)
      throw new StoreError(
        `${this.path} has schema version ${version}, newer than this proxkit knows (${MIGRATIONS.length}): upgrade proxkit`,
        "E_STORE_VERSION",
      );
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]);
        this.db.pragma(`application_id = ${COLLECTOR_APPLICATION_ID}`);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  /** Windows stored. */
  get count(): number {
    return this.countRows.get()!.n;
  }

  /**
   * Validates and stores one message. Malformed input is `rejected` with a one-line reason;
   * a failing database throws a `StoreError` (the message must then not be acknowledged).
   */
  store(topic: string, payload: Uint8Array): StoreOutcome {
    const where = parseWindowsTopic(topic);
    if (!where)
      return { kind: "rejected", reason: "not a proxkit/<site>/<checkpoint>/windows topic" };
    if (payload.length > MAX_PAYLOAD_BYTES)
      return { kind: "rejected", reason: `payload of ${payload.length} bytes is too large` };
    let text: string;
    let window: unknown;
    try {
      text = this.decoder.decode(payload);
    } catch {
      return { kind: "rejected", reason: "payload is not UTF-8" };
    }
    try {
      window = JSON.parse(text);
    } catch (error) {
      return { kind: "rejected", reason: `payload is not JSON (${(error as Error).message})` };
    }
    if (typeof window !== "object" || window === null || Array.isArray(window))
      return { kind: "rejected", reason: "payload is not a JSON object" };
    const id = (window as { id?: unknown }).id;
    if (
      typeof id !== "string" ||
      id === "" ||
      id.length > MAX_WINDOW_ID_CHARS ||
      /\p{Cc}/u.test(id)
    )
      return {
        kind: "rejected",
        reason: `payload has no usable "id" (a non-empty string of at most ${MAX_WINDOW_ID_CHARS} characters)`,
      };
    try {
      const { changes } = this.insert.run(
        id,
        where.site,
        where.checkpoint,
        text,
        this.clock.nowMs(),
      );
      return { kind: changes === 1 ? "stored" : "duplicate", id };
    } catch (error) {
      throw new StoreError(
        `cannot store window ${id} in ${this.path}: ${(error as Error).message}`,
        "E_STORE",
        {
          cause: error,
        },
      );
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** What the collector is doing, for the log. */
export type CollectorState =
  | { readonly state: "connecting"; readonly atMs: number }
  | { readonly state: "connected"; readonly atMs: number; readonly sessionPresent: boolean }
  | { readonly state: "subscribed"; readonly atMs: number; readonly topic: string }
  | {
      readonly state: "disconnected";
      readonly atMs: number;
      readonly reason: string;
      readonly retryInMs: number;
    }
  | { readonly state: "stopped"; readonly atMs: number };

export interface CollectorOptions {
  /** The broker, `mqtt://host:1883` (also mqtts, ws, wss). */
  readonly url: string;
  /** User name, password, CA and client certificate (see `mqtt-connection.ts`). */
  readonly connection?: MqttConnectionOptions;
  /**
   * Signs the receipts: the collector's Ed25519 private key or the fleet's HMAC secret. Without
   * it no receipts are sent (unsigned ones would teach checkpoints to trust anyone).
   */
  readonly receiptKey?: ReceiptKey;
  /** The SQLite file (created with mode 0600). */
  readonly dbPath: string;
  /** Default `proxkit/+/+/windows`. */
  readonly topic?: string;
  /** Names the broker session that queues windows while the collector is away. Default `proxkit-collector-<host>`. */
  readonly clientId?: string;
  readonly clock?: Clock;
  /** First reconnect delay (then doubling, jittered). Default 0.5 s. */
  readonly minBackoffMs?: number;
  /** Reconnect delay cap. Default 30 s. */
  readonly maxBackoffMs?: number;
  /** One line per malformed message. Default stderr. */
  readonly warn?: (line: string) => void;
  readonly onState?: (state: CollectorState) => void;
  /**
   * Confirm stored windows to their checkpoint on `.../receipts` with a signed receipt (default
   * true when there is a `receiptKey`; false, e.g. a second read-only collector, sends none).
   */
  readonly receipts?: boolean;
  /** The database failed or the broker refused the subscription; the collector stops itself. */
  readonly onFatal?: (error: Error) => void;
}

/** Counts since `start()`. */
export interface CollectorCounts {
  stored: number;
  duplicates: number;
  rejected: number;
}

/** Subscribes to the fleet's windows and stores them idempotently. */
export class Collector {
  readonly counts: CollectorCounts = { stored: 0, duplicates: 0, rejected: 0 };
  private readonly options: CollectorOptions;
  private readonly url: string;
  private readonly connectOptions: ReturnType<typeof mqttConnectOptions>["options"];
  private readonly receiptKey: ReceiptKey | undefined;
  private readonly topic: string;
  private readonly clientId: string;
  private readonly clock: Clock;
  private readonly warn: (line: string) => void;
  private readonly onState: (state: CollectorState) => void;
  private readonly backoff: ReconnectBackoff;
  private store: CollectorStore | undefined;
  private client: MqttClient | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private running = false;
  /** Receipt topic → ids stored and not yet confirmed. */
  private pendingReceipts = new Map<string, string[]>();
  private unackedReceipts = new Map<MqttClient, Set<{ topic: string; ids: string[] }>>();
  private receiptTimer: NodeJS.Timeout | undefined;
  /** Between a lost connection and the next success: one `disconnected` state per outage. */
  private down = false;

  constructor(options: CollectorOptions) {
    const connection = mqttConnectOptions(options.url, options.connection);
    this.url = connection.url;
    this.connectOptions = connection.options;
    if (options.receiptKey && !canSignReceipts(options.receiptKey))
      throw new ConfigError(
        `the receipt key ${options.receiptKey.source} is a public key, which can only check receipts: the collector signs with the private key (or the fleet secret)`,
        "E_RECEIPT_KEY",
      );
    this.receiptKey = options.receipts === false ? undefined : options.receiptKey;
    this.topic = validateTopicFilter(options.topic ?? DEFAULT_COLLECT_TOPIC);
    this.clientId = options.clientId ?? `proxkit-collector-${hostname()}`;
    if (this.clientId === "" || Buffer.byteLength(this.clientId) > 65535)
      throw new ConfigError("the client id must be a non-empty string", "E_MQTT_CLIENT_ID");
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.warn = options.warn ?? ((line) => process.stderr.write(`proxkit collect: ${line}\n`));
    this.onState = options.onState ?? (() => {});
    this.backoff = new ReconnectBackoff(
      options.minBackoffMs ?? 500,
      options.maxBackoffMs ?? 30_000,
    );
  }

  /** True when stored windows are confirmed with signed receipts. */
  get sendsReceipts(): boolean {
    return this.receiptKey !== undefined;
  }

  /** Windows in the database. */
  get storedCount(): number {
    return this.store?.count ?? 0;
  }

  /** Opens the database and starts connecting; an unreachable broker is retried, not fatal. */
  async start(): Promise<void> {
    if (this.running) return;
    this.store = new CollectorStore(this.options.dbPath, this.clock);
    this.running = true;
    this.down = false;
    this.backoff.reset();
    this.onState({ state: "connecting", atMs: this.clock.nowMs() });
    this.connectNow();
  }

  /** Disconnects (the broker keeps the session and queues for us) and closes the database. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.flushReceipts();
    clearTimeout(this.receiptTimer);
    this.receiptTimer = undefined;
    const client = this.client;
    this.client = undefined;
    if (client) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          client.end(true);
          resolve();
        }, 2000);
        client.end(!client.connected, {}, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.store?.close();
    this.store = undefined;
    this.onState({ state: "stopped", atMs: this.clock.nowMs() });
  }

  /**
   * One MQTT.js client per connection, reconnected by us with backoff: a dead client keeps
   * storing the messages it had already read while its successor connects.
   */
  private connectNow(): void {
    this.retryTimer = undefined;
    if (!this.running) return;
    const client = connect(this.url, {
      ...this.connectOptions,
      clientId: this.clientId,
      clean: false,
      resubscribe: false,
      reconnectPeriod: 0,
      connectTimeout: 15_000,
      keepalive: 30,
    });
    this.client = client;
    let lastError = "connection closed";
    // Called for every PUBLISH (QoS 0 too); the PUBACK leaves only when `callback` is called.
    client.handleMessage = (packet, callback) => this.handle(client, packet, callback);
    client.on("error", (error) => {
      lastError = connectionErrorReason(error);
    });
    client.on("connect", (connack) => {
      if (this.client !== client) return;
      this.down = false;
      this.backoff.reset();
      this.flushReceipts();
      this.onState({
        state: "connected",
        atMs: this.clock.nowMs(),
        sessionPresent: connack.sessionPresent,
      });
      // Always (re)subscribe: a broker that lost its state lost the subscription with it.
      client.subscribe(this.topic, { qos: 1 }, (error, granted) => {
        if (this.client !== client) return;
        if (error || !granted || granted.some((g) => g.qos > 2)) {
          this.fail(
            new StoreError(
              `the broker refused the subscription to ${this.topic}${error ? ` (${error.message})` : ""}`,
              "E_MQTT_SUBSCRIBE",
            ),
          );
          return;
        }
        this.onState({ state: "subscribed", atMs: this.clock.nowMs(), topic: this.topic });
      });
    });
    client.on("close", () => {
      // A PUBACK written as the socket died waits for a 'drain' that never comes, and holds
      // up the messages read after it; release it so they are stored too.
      client.stream?.emit("drain");
      this.requeueReceipts(client);
      if (this.client !== client) return;
      this.client = undefined;
      client.end(true);
      if (!this.running) return;
      const retryInMs = this.backoff.nextDelayMs();
      if (!this.down)
        this.onState({
          state: "disconnected",
          atMs: this.clock.nowMs(),
          reason: lastError,
          retryInMs,
        });
      this.down = true;
      this.retryTimer = setTimeout(() => this.connectNow(), retryInMs);
    });
  }

  private handle(
    client: MqttClient,
    packet: IPublishPacket,
    callback: (error?: Error) => void,
  ): void {
    const store = this.store;
    if (!store) return; // closed: unacknowledged, the broker sends it again
    let outcome: StoreOutcome;
    try {
      const payload =
        typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
      outcome = store.store(packet.topic, payload);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    if (outcome.kind === "stored") this.counts.stored++;
    else if (outcome.kind === "duplicate") this.counts.duplicates++;
    if (outcome.kind !== "rejected") this.queueReceipt(packet.topic, outcome.id);
    else {
      this.counts.rejected++;
      this.warn(`ignored a message on ${JSON.stringify(packet.topic)}: ${outcome.reason}`);
    }
    // On a dead connection MQTT.js would queue the PUBACK for a next connection (where its id
    // means another message) and stall; an error skips the PUBACK and moves on to the next
    // message read before the crash. The broker resends what was not acknowledged.
    if (client.connected) callback();
    else callback(new Error("connection lost: no PUBACK"));
  }

  /** A duplicate is confirmed again: its checkpoint sent it again because it is still waiting. */
  private queueReceipt(windowsTopicName: string, windowId: string): void {
    if (!this.receiptKey) return;
    const topic = receiptsTopic(windowsTopicName);
    if (topic === undefined) return;
    const ids = this.pendingReceipts.get(topic);
    if (ids) ids.push(windowId);
    else this.pendingReceipts.set(topic, [windowId]);
    this.receiptTimer ??= setTimeout(() => {
      this.receiptTimer = undefined;
      this.flushReceipts();
    }, RECEIPT_DELAY_MS);
  }

  /**
   * Sends the gathered receipts (QoS 1) if connected; otherwise they wait for the next
   * connection. Receipts the broker has not acknowledged when a connection dies are sent again
   * on the next: a checkpoint that never hears of a window would hold it in its outbox.
   */
  private flushReceipts(): void {
    const client = this.client;
    const key = this.receiptKey;
    if (!client?.connected || this.pendingReceipts.size === 0 || !key) return;
    let unacked = this.unackedReceipts.get(client);
    if (!unacked) {
      unacked = new Set();
      this.unackedReceipts.set(client, unacked);
    }
    for (const [topic, ids] of this.pendingReceipts)
      for (let i = 0; i < ids.length; i += RECEIPT_IDS) {
        const receipt = { topic, ids: ids.slice(i, i + RECEIPT_IDS) };
        unacked.add(receipt);
        client.publish(topic, signReceipt(key, topic, receipt.ids), { qos: 1 }, (error) => {
          if (!error) unacked.delete(receipt);
        });
      }
    this.pendingReceipts.clear();
  }

  /** Puts the receipts a dead connection did not get acknowledged back in the queue. */
  private requeueReceipts(client: MqttClient): void {
    const unacked = this.unackedReceipts.get(client);
    this.unackedReceipts.delete(client);
    for (const receipt of unacked ?? []) {
      const ids = this.pendingReceipts.get(receipt.topic);
      if (ids) ids.push(...receipt.ids);
      else this.pendingReceipts.set(receipt.topic, [...receipt.ids]);
    }
  }

  private fail(error: Error): void {
    void this.stop();
    if (this.options.onFatal) this.options.onFatal(error);
    else this.warn(error.message);
  }
}
