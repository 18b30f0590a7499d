/**
 * A real Mosquitto broker for tests: 127.0.0.1 on a free port, a temporary config and
 * persistence folder, killable and restartable on the same port. `MOSQUITTO` is undefined
 * where Debian's `mosquitto` is not installed (tests skip with a message).
 *
 * `Mosquitto.startFleet` runs the shipped docs/fleet/mosquitto.conf and docs/fleet/acl (TLS,
 * passwords, ACLs) with a throwaway CA, server and client certificates made by `openssl` and a
 * password file made by `mosquitto_passwd`; `FLEET_TOOLS` is false where those are missing.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeEach } from "vitest";
import { allOf, needTool } from "../support/requirements.js";

function findMosquitto(): string | undefined {
  if (existsSync("/usr/sbin/mosquitto")) return "/usr/sbin/mosquitto";
  try {
    return (
      execFileSync("sh", ["-c", "command -v mosquitto"], { encoding: "utf8" }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

export const MOSQUITTO = findMosquitto();
export const NO_MOSQUITTO_MESSAGE =
  "mosquitto is not installed (Debian: apt-get install mosquitto; .ci/run installs it): skipping the MQTT tests";

function findTool(name: string): string | undefined {
  for (const folder of ["/usr/bin", "/usr/local/bin", "/usr/sbin"])
    if (existsSync(join(folder, name))) return join(folder, name);
  return undefined;
}

export const OPENSSL = findTool("openssl");
export const MOSQUITTO_PASSWD = findTool("mosquitto_passwd");
/** Mosquitto, openssl and mosquitto_passwd: what the TLS, password and ACL tests need. */
export const FLEET_TOOLS =
  MOSQUITTO !== undefined && OPENSSL !== undefined && MOSQUITTO_PASSWD !== undefined;
/** What the tests against a broker need (required under PROXKIT_REQUIRE_TOOLS=1, as in .ci/run). */
export const MOSQUITTO_TOOL = needTool(
  "mosquitto",
  MOSQUITTO,
  "Debian: apt-get install mosquitto; .ci/run installs it",
);
export const OPENSSL_TOOL = needTool(
  "openssl",
  OPENSSL,
  "Debian: apt-get install openssl; .ci/run installs it",
);
/** What the TLS, password and ACL tests need. */
export const FLEET_TOOL = allOf(
  MOSQUITTO_TOOL,
  OPENSSL_TOOL,
  needTool("mosquitto_passwd", MOSQUITTO_PASSWD, "Debian: apt-get install mosquitto"),
);
export const NO_FLEET_TOOLS_MESSAGE =
  "mosquitto, mosquitto_passwd (Debian: mosquitto) or openssl is not installed: skipping the MQTT TLS, password and ACL tests";

/** The shipped broker configuration the fleet tests run. */
export const FLEET_DIR = join(dirname(fileURLToPath(import.meta.url)), "../../docs/fleet");

/** Certificates of a throwaway PKI, as file paths. */
export interface TestPki {
  readonly dir: string;
  readonly ca: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** A client certificate and key per name given (CN = the name). */
  readonly clients: Record<string, { cert: string; key: string }>;
}

function openssl(dir: string, args: string[]): void {
  execFileSync(OPENSSL!, args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/**
 * A CA, a server certificate for 127.0.0.1 (subjectAltName IP:127.0.0.1) and client
 * certificates, P-256, valid two days, written to `dir`.
 */
export function makeTestPki(dir: string, clients: readonly string[] = []): TestPki {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(dir, [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "2",
    "-subj",
    "/CN=proxkit test CA",
  ]);
  const issue = (name: string, subject: string, extensions: string) => {
    openssl(dir, ["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject]);
    writeFileSync(join(dir, `${name}.ext`), `${extensions}\n`);
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.crt`,
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
    ]);
    return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  };
  const server = issue("server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1");
  const clientFiles: Record<string, { cert: string; key: string }> = {};
  for (const name of clients)
    clientFiles[name] = issue(`client-${name}`, `/CN=${name}`, "extendedKeyUsage=clientAuth");
  return {
    dir,
    ca: join(dir, "ca.crt"),
    caKey: join(dir, "ca.key"),
    serverCert: server.cert,
    serverKey: server.key,
    clients: clientFiles,
  };
}

/** The checkpoint's outbox, as the checkpoint schema creates it. */
export const OUTBOX_DDL =
  "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, payload TEXT NOT NULL, created_ms INTEGER NOT NULL);";

/** A checkpoint-like database with just the outbox, in WAL mode. */
export function openOutboxDb(path: string): Database.Database {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.exec(OUTBOX_DDL.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"));
  return db;
}

/** Adds closed windows to the outbox like the daemon does; returns their ids. */
export function enqueueWindows(
  db: Database.Database,
  checkpoint: string,
  from: number,
  count: number,
  site = "venue-a",
): string[] {
  const insert = db.prepare("INSERT INTO outbox (topic, payload, created_ms) VALUES (?, ?, ?)");
  const ids: string[] = [];
  db.transaction(() => {
    for (let i = from; i < from + count; i++) {
      const startMs = 1_790_000_000_000 + i * 60_000;
      const id = `${checkpoint}:${i.toString(16).padStart(32, "0")}:${startMs}`;
      ids.push(id);
      const window = { id, protocol: "gaen", startMs, durationS: 300, scanInstances: [] };
      insert.run(`proxkit/${site}/${checkpoint}/windows`, JSON.stringify(window), startMs);
    }
  })();
  return ids;
}

export function outboxDepth(db: Database.Database): number {
  return (db.prepare("SELECT count(*) AS n FROM outbox").get() as { n: number }).n;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Brokers started in this process and not yet disposed. */
const live = new Set<Mosquitto>();

/** For `afterAll`: disposes the brokers a test left behind (it timed out before its `finally`). */
export async function disposeBrokers(): Promise<void> {
  await Promise.all([...live].map((broker) => broker.dispose()));
}

/**
 * What every MQTT test file sets up: the brokers disposed after all its tests, and a fresh temporary folder per test. Returns the current test's folder.
 */
export function mqttTestFile(prefix: string): () => string {
  afterAll(disposeBrokers);
  let dir = "";
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  return () => dir;
}

/** Sockets and timers alive in this process: a stopped client must leave none behind. */
export function liveHandles(): number {
  return process
    .getActiveResourcesInfo()
    .filter((kind) => kind === "TCPSocketWrap" || kind === "Timeout").length;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 50 ms until it holds; throws with `what` after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  what: string | (() => string),
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === "function" ? what() : what}`,
      );
    await sleep(50);
  }
}

export interface FleetBrokerOptions {
  /** User name → password, written with mosquitto_passwd. */
  readonly users: Record<string, string>;
  /** Names to make client certificates for. */
  readonly clientCerts?: readonly string[];
  /** Turns the shipped `require_certificate false` into true. */
  readonly requireCertificate?: boolean;
}

export class Mosquitto {
  readonly dir: string;
  readonly port: number;
  /** The certificates of a broker started with `startFleet`. */
  pki: TestPki | undefined;
  private process: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
  }

  /** A free port on 127.0.0.1 (for a broker started later). */
  static freePort = freePort;

  /**
   * Starts a broker; `autosaveS` is how often it snapshots its persistence file, or with
   * `autosaveOnChanges` it snapshots after every change.
   */
  static async start(
    options: { autosaveS?: number; autosaveOnChanges?: boolean; port?: number } = {},
  ): Promise<Mosquitto> {
    if (!MOSQUITTO) throw new Error(NO_MOSQUITTO_MESSAGE);
    const dir = mkdtempSync(join(tmpdir(), "proxkit-mosquitto-"));
    const broker = new Mosquitto(dir, options.port ?? (await freePort()));
    const config = [
      `listener ${broker.port} 127.0.0.1`,
      "allow_anonymous true",
      "persistence true",
      `persistence_location ${dir}/`,
      ...(options.autosaveOnChanges
        ? ["autosave_on_changes true", "autosave_interval 1"]
        : [`autosave_interval ${options.autosaveS ?? 1}`]),
      // Deliver at once (no in-flight cap) and queue without limit for an absent collector.
      "max_inflight_messages 0",
      "max_queued_messages 0",
      `log_dest file ${join(dir, "mosquitto.log")}`,
      "log_type all",
      // As root, mosquitto would switch to its own user, which cannot write our temp folder.
      ...(process.getuid?.() === 0 ? ["user root"] : []),
    ];
    writeFileSync(join(dir, "mosquitto.conf"), `${config.join("\n")}\n`);
    await broker.launch();
    return broker;
  }

  /**
   * Starts a broker with docs/fleet/mosquitto.conf and docs/fleet/acl as shipped, their paths
   * pointed at a temporary folder holding a fresh PKI and password file, on 127.0.0.1.
   */
  static async startFleet(options: FleetBrokerOptions): Promise<Mosquitto> {
    if (!FLEET_TOOLS) throw new Error(NO_FLEET_TOOLS_MESSAGE);
    const dir = mkdtempSync(join(tmpdir(), "proxkit-mosquitto-fleet-"));
    const broker = new Mosquitto(dir, await freePort());
    broker.pki = makeTestPki(dir, options.clientCerts);
    const passwords = join(dir, "passwords");
    let first = true;
    for (const [user, password] of Object.entries(options.users)) {
      execFileSync(MOSQUITTO_PASSWD!, ["-b", ...(first ? ["-c"] : []), passwords, user, password], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      first = false;
    }
    copyFileSync(join(FLEET_DIR, "acl"), join(dir, "acl"));
    const shipped = readFileSync(join(FLEET_DIR, "mosquitto.conf"), "utf8");
    let config = shipped
      .replaceAll("/etc/mosquitto/proxkit/", `${dir}/`)
      .replaceAll("/var/lib/mosquitto/", `${dir}/`)
      .replace(/^listener 8883$/m, `listener ${broker.port} 127.0.0.1`);
    if (options.requireCertificate)
      config = config.replace(/^require_certificate false$/m, "require_certificate true");
    if (config === shipped || !config.includes(`listener ${broker.port} 127.0.0.1`))
      throw new Error("docs/fleet/mosquitto.conf no longer has the lines the test replaces");
    config += [
      "",
      "# Added by the test:",
      `log_dest file ${join(dir, "mosquitto.log")}`,
      "log_type all",
      ...(process.getuid?.() === 0 ? ["user root"] : []),
      "",
    ].join("\n");
    writeFileSync(join(dir, "mosquitto.conf"), config);
    await broker.launch();
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** The TLS URL of a broker started with `startFleet`. */
  get tlsUrl(): string {
    return `mqtts://127.0.0.1:${this.port}`;
  }

  get persistenceFile(): string {
    return join(this.dir, "mosquitto.db");
  }

  get log(): string {
    try {
      return readFileSync(join(this.dir, "mosquitto.log"), "utf8");
    } catch {
      return "";
    }
  }

  private async launch(): Promise<void> {
    const child = spawn(MOSQUITTO!, ["-c", join(this.dir, "mosquitto.conf")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (chunk) => {
      stderr += chunk;
    });
    this.process = child;
    live.add(this);
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    const deadline = Date.now() + 15_000;
    while (!(await canConnect(this.port))) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`mosquitto did not start on port ${this.port}: ${stderr}${this.log}`);
      await sleep(50);
    }
  }

  /** Forces a snapshot of the persistence file (SIGUSR1) and waits until it is written. */
  async save(): Promise<void> {
    const before = existsSync(this.persistenceFile) ? statSync(this.persistenceFile).mtimeMs : 0;
    const saves = this.log.split("Saving in-memory database").length;
    this.process?.kill("SIGUSR1");
    await waitFor(
      () =>
        this.log.split("Saving in-memory database").length > saves &&
        existsSync(this.persistenceFile) &&
        !existsSync(`${this.persistenceFile}.new`) &&
        statSync(this.persistenceFile).mtimeMs >= before,
      "mosquitto to save its persistence file",
      15_000,
    );
  }

  /** A crash: SIGKILL, nothing saved beyond the last snapshot. */
  async kill(): Promise<void> {
    this.process?.kill("SIGKILL");
    await this.exited;
    this.process = undefined;
  }

  /** A clean shutdown (SIGTERM): mosquitto saves its state first. */
  async stop(): Promise<void> {
    this.process?.kill("SIGTERM");
    await this.exited;
    this.process = undefined;
  }

  /** Starts again on the same port with the same persistence folder. */
  async restart(): Promise<void> {
    if (this.process) await this.stop();
    await this.launch();
  }

  /** Stops the broker and removes its folder. */
  async dispose(): Promise<void> {
    live.delete(this);
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
