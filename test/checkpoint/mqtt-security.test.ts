/**
 * Issue 11, item 1: receipts must come from the collector, and the broker must be locked down.
 * Signed receipts (Ed25519, HMAC), login and TLS options, and the shipped Mosquitto
 * configuration (docs/fleet/mosquitto.conf and acl) run for real: an anonymous client is
 * refused, forged or replayed receipts delete nothing, and a checkpoint reaches the collector
 * over TLS with a password and signed receipts.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { connect, type IClientOptions, type MqttClient } from "mqtt";
import { describe, expect, it } from "vitest";
import {
  loadCheckpointConfig,
  validateCheckpointConfig,
} from "../../src/checkpoint/checkpoint-config.js";
import { Collector, type CollectorState } from "../../src/checkpoint/collector.js";
import {
  connectionWarnings,
  mqttConnectOptions,
  redactMqttUrl,
} from "../../src/checkpoint/mqtt-connection.js";
import { type ForwarderState, MqttForwarder } from "../../src/checkpoint/mqtt-forwarder.js";
import {
  generateFleetSecret,
  generateReceiptKeyPair,
  hmacReceiptKey,
  loadReceiptKey,
  parseReceiptKey,
  type ReceiptKey,
  signReceipt,
  verifyReceipt,
} from "../../src/checkpoint/receipt-signature.js";
import { resolveMqttOptions } from "../../src/cli/mqtt-options.js";
import { ConfigError } from "../../src/core/errors.js";
import { CLI, runCli } from "../cli/run-cli.js";
import {
  enqueueWindows,
  Mosquitto,
  mqttTestFile,
  OPENSSL,
  openOutboxDb,
  waitFor,
  MOSQUITTO_TOOL,
  FLEET_TOOL,
  OPENSSL_TOOL,
} from "./mosquitto.js";
import { describeWith, itWith } from "../support/requirements.js";

const dir = mqttTestFile("proxkit-mqtt-security-");

const TOPIC = "proxkit/venue-a/door-1/receipts";
const OTHER_TOPIC = "proxkit/venue-a/door-2/receipts";
const bytes = (text: string) => Buffer.from(text, "utf8");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const PASSWORDS = { collector: "collector-pw-1", "door-1": "door-1-pw", "door-2": "door-2-pw" };

/** Connects a plain MQTT.js client; resolves with it, or rejects with the connection error. */
function client(url: string, options: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    c.once("connect", () => resolve(c));
    c.once("error", (error) => {
      c.end(true);
      reject(error);
    });
  });
}

/**
 * The attack of the issue: answer every window on the broker with receipts naming it, in every
 * shape a forger could try, without the collector's key.
 */
async function forger(
  url: string,
  options: IClientOptions,
  wrongKeys: { ed25519: ReceiptKey; hmac: ReceiptKey; genuine: ReceiptKey },
): Promise<{ client: MqttClient; sent: () => number }> {
  const c = await client(url, { clientId: "forger", ...options });
  let sent = 0;
  c.on("message", (topic, payload) => {
    const id = JSON.parse(payload.toString()).id as string;
    const receipts = topic.replace(/\/windows$/, "/receipts");
    const other = receipts.replace("door-1", "door-2");
    const forged = [
      JSON.stringify({ ids: [id] }), // unsigned, as the issue's attack
      JSON.stringify({ ids: [id], alg: "none", sig: "" }),
      JSON.stringify({ ids: [id], alg: "ed25519", sig: Buffer.alloc(64).toString("base64") }),
      signReceipt(wrongKeys.ed25519, receipts, [id]), // another collector's key
      signReceipt(wrongKeys.hmac, receipts, [id]), // a guessed fleet secret
      // A genuine receipt for another checkpoint, replayed to this one's topic.
      signReceipt(wrongKeys.genuine, other, [id]),
    ];
    for (const receipt of forged) {
      sent++;
      c.publish(receipts, receipt, { qos: 1 });
    }
  });
  await c.subscribeAsync("proxkit/+/+/windows", { qos: 1 });
  return { client: c, sent: () => sent };
}

describe("signed receipts", () => {
  it("Ed25519 and HMAC receipts verify with the right key on the right topic only", () => {
    const pair = generateReceiptKeyPair();
    const secret = hmacReceiptKey(Buffer.alloc(32, 7));
    for (const [signer, checker] of [
      [pair.privateKey, pair.publicKey],
      [secret, secret],
    ] as const) {
      const receipt = signReceipt(signer, TOPIC, ["a", "b"]);
      expect(verifyReceipt(checker, TOPIC, bytes(receipt))).toEqual({ ok: true, ids: ["a", "b"] });
      // Bound to its topic: replayed to another checkpoint it fails.
      expect(verifyReceipt(checker, OTHER_TOPIC, bytes(receipt))).toMatchObject({ ok: false });
      // Another id list under the same signature fails.
      const doc = JSON.parse(receipt);
      const tampered = JSON.stringify({ ...doc, ids: ["a", "b", "c"] });
      expect(verifyReceipt(checker, TOPIC, bytes(tampered))).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/bad .* signature/),
      });
    }
    const cases: [string, RegExp][] = [
      ['{"ids":["a"]}', /not signed/],
      ["not json", /not JSON/],
      ["[1]", /not a JSON object/],
      ['{"ids":"a","sig":"x"}', /no "ids"/],
      ['{"ids":["a\\nb"],"sig":"x","alg":"ed25519"}', /no "ids"/],
      ['{"ids":["a"],"alg":"hmac-sha256","sig":"AAAA"}', /signed with "hmac-sha256", not ed25519/],
      ['{"ids":["a"],"alg":"ed25519","sig":"!!"}', /not base64/],
    ];
    for (const [payload, reason] of cases)
      expect(verifyReceipt(pair.publicKey, TOPIC, bytes(payload))).toMatchObject({
        ok: false,
        reason: expect.stringMatching(reason),
      });
    expect(() => signReceipt(pair.publicKey, TOPIC, ["a"])).toThrow(/public key/);
    expect(() => signReceipt(secret, TOPIC, ["a\nb"])).toThrow(ConfigError);
  });

  it("key files: PEM Ed25519 private and public keys, base64 and hex secrets; others refused naming the file", () => {
    const pair = generateReceiptKeyPair();
    const write = (name: string, text: string) => {
      const path = join(dir(), name);
      writeFileSync(path, text, { mode: 0o600 });
      return path;
    };
    expect(loadReceiptKey(write("c.key", pair.privatePem)).kind).toBe("ed25519-private");
    expect(loadReceiptKey(write("c.pub", pair.publicPem)).kind).toBe("ed25519-public");
    const secret = generateFleetSecret();
    const fromBase64 = loadReceiptKey(write("fleet.secret", `${secret}\n`));
    const fromHex = loadReceiptKey(
      write("fleet.hex", Buffer.from(secret, "base64").toString("hex")),
    );
    expect(fromBase64.kind).toBe("hmac-sha256");
    // The same secret either way: receipts signed with one verify with the other.
    expect(verifyReceipt(fromHex, TOPIC, bytes(signReceipt(fromBase64, TOPIC, ["x"]))).ok).toBe(
      true,
    );
    const bad: [string, string, RegExp][] = [
      ["short.secret", Buffer.alloc(16).toString("base64"), /16 bytes; it must be at least 32/],
      ["junk.key", "this is not a key!", /neither a PEM Ed25519 key nor a fleet secret/],
      [
        "cert.pem",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        /not a receipt key/,
      ],
      [
        "broken.pem",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        /not a readable PEM key/,
      ],
      ["empty.key", "", /neither/],
    ];
    for (const [name, text, message] of bad) {
      const path = write(name, text);
      expect(() => loadReceiptKey(path)).toThrow(ConfigError);
      expect(() => loadReceiptKey(path)).toThrow(message);
      expect(() => loadReceiptKey(path)).toThrow(`receipt key ${path}`);
    }
    expect(() => loadReceiptKey(join(dir(), "missing.key"))).toThrow(/no such file/);
    expect(() => loadReceiptKey(dir())).toThrow(/not a file/);
  });

  itWith(OPENSSL_TOOL)(
    "keys made with openssl genpkey -algorithm ed25519 work; an RSA key is refused",
    () => {
      const key = join(dir(), "collector.key");
      const pub = join(dir(), "collector.pub");
      spawnSync(OPENSSL!, ["genpkey", "-algorithm", "ed25519", "-out", key]);
      spawnSync(OPENSSL!, ["pkey", "-in", key, "-pubout", "-out", pub]);
      const receipt = signReceipt(loadReceiptKey(key), TOPIC, ["w1"]);
      expect(verifyReceipt(loadReceiptKey(pub), TOPIC, bytes(receipt)).ok).toBe(true);
      const rsa = join(dir(), "rsa.key");
      spawnSync(OPENSSL!, [
        "genpkey",
        "-algorithm",
        "rsa",
        "-pkeyopt",
        "rsa_keygen_bits:1024",
        "-out",
        rsa,
      ]);
      expect(() => loadReceiptKey(rsa)).toThrow(/is an rsa key; receipts are signed with Ed25519/);
      expect(() => parseReceiptKey(readFileSync(rsa, "utf8"), "x")).toThrow(ConfigError);
    },
  );
});

describe("login and TLS options", () => {
  it("TLS files need mqtts://; a certificate needs its key; URL credentials are taken out of the URL", () => {
    expect(() => mqttConnectOptions("mqtt://h:1883", { ca: "pem" })).toThrow(
      /^ca, cert and key need an encrypted connection: give the MQTT URL as mqtts:\/\/h:1883/,
    );
    expect(() => mqttConnectOptions("mqtts://h", { cert: "pem" })).toThrow(
      /both cert \(the certificate\) and key/,
    );
    expect(() => mqttConnectOptions("mqtt://h", { password: "x" })).toThrow(/needs a user name/);
    expect(mqttConnectOptions("mqtt://u%40x:p%3Aw@h:1883")).toEqual({
      url: "mqtt://h:1883",
      options: { username: "u@x", password: "p:w" },
    });
    // Explicit options win over the URL's.
    expect(mqttConnectOptions("mqtt://u:p@h", { username: "v", password: "q" }).options).toEqual({
      username: "v",
      password: "q",
    });
    expect(mqttConnectOptions("mqtts://h:8883", { ca: "CA" }).options).toEqual({
      ca: "CA",
      rejectUnauthorized: true,
    });
    expect(redactMqttUrl("mqtt://u:secret@h:1883")).toBe("mqtt://h:1883");
  });

  it("warns about a password in the URL and an anonymous unencrypted connection, and only then", () => {
    expect(connectionWarnings("mqtt://h:1883").map(String)).toEqual([
      expect.stringMatching(/anonymous and unencrypted: anyone .* can read the rolling IDs/),
    ]);
    expect(connectionWarnings("mqtt://u:p@h:1883").map(String)).toEqual([
      expect.stringMatching(/password in the MQTT URL is visible to every user .*ps/),
    ]);
    expect(connectionWarnings("mqtt://h", { username: "door-1" })).toEqual([]);
    expect(connectionWarnings("mqtts://h")).toEqual([]);
  });

  it("resolves options, then the environment, then the config file; reads the password file's first line", () => {
    const passwordFile = join(dir(), "password");
    writeFileSync(passwordFile, "from-file\nignored\n", { mode: 0o600 });
    const pair = generateReceiptKeyPair();
    const pub = join(dir(), "collector.pub");
    const key = join(dir(), "collector.key");
    writeFileSync(pub, pair.publicPem);
    writeFileSync(key, pair.privatePem, { mode: 0o600 });
    const env = { PROXKIT_MQTT_USERNAME: "env-user", PROXKIT_MQTT_PASSWORD: "env-pw" };
    const fromEnv = resolveMqttOptions("checkpoint", "mqtt://h", {}, {}, { env })!;
    expect(fromEnv.connection).toEqual({ username: "env-user", password: "env-pw" });
    const fromArgs = resolveMqttOptions(
      "checkpoint",
      "mqtt://h",
      { "mqtt-username": "door-1", "mqtt-password-file": passwordFile, "receipt-key": pub },
      { mqttUsername: "config-user" },
      { env },
    )!;
    expect(fromArgs.connection).toEqual({ username: "door-1", password: "from-file" });
    expect(fromArgs.receiptKey?.kind).toBe("ed25519-public");
    expect(fromArgs.notices).toEqual([]);
    const fromConfig = resolveMqttOptions(
      "checkpoint",
      "mqtt://h",
      {},
      { mqttUsername: "door-2", mqttPasswordFile: passwordFile },
      { env: {} },
    )!;
    expect(fromConfig.connection).toEqual({ username: "door-2", password: "from-file" });
    // Without a key: one line saying windows go at PUBACK and how to get receipts.
    expect(fromConfig.notices).toEqual([expect.stringMatching(/^no --receipt-key: .*PUBACK/)]);

    expect(() =>
      resolveMqttOptions("checkpoint", "mqtt://h", { "receipt-key": key }, {}, { env: {} }),
    ).toThrow(/is the collector's private key: a checkpoint holds only the public key/);
    expect(() =>
      resolveMqttOptions("collect", "mqtt://h", { "receipt-key": pub }, {}, { env: {} }),
    ).toThrow(/cannot sign receipts/);
    expect(() => resolveMqttOptions("checkpoint", undefined, { ca: "ca.crt" })).toThrow(
      /--ca needs --mqtt/,
    );
    chmodSync(passwordFile, 0o644);
    const loose = resolveMqttOptions(
      "collect",
      "mqtt://h",
      { "mqtt-username": "collector", "mqtt-password-file": passwordFile, "receipt-key": key },
      {},
      { env: {} },
    )!;
    expect(loose.notices).toContainEqual(expect.stringMatching(/can be read by other users/));
  });

  it("the checkpoint config takes mqttUsername, mqttPasswordFile, tls and receiptKey, paths relative to its folder", () => {
    const path = join(dir(), "checkpoint.json");
    writeFileSync(
      path,
      JSON.stringify({
        mqtt: "mqtts://broker:8883",
        mqttUsername: "door-1",
        mqttPasswordFile: "door-1.password",
        tls: { ca: "ca.crt", cert: "/etc/proxkit/door-1.crt", key: "door-1.key" },
        receiptKey: "keys/collector.pub",
      }),
    );
    expect(loadCheckpointConfig(path)).toEqual({
      mqtt: "mqtts://broker:8883",
      mqttUsername: "door-1",
      mqttPasswordFile: join(dir(), "door-1.password"),
      tls: {
        ca: join(dir(), "ca.crt"),
        cert: "/etc/proxkit/door-1.crt",
        key: join(dir(), "door-1.key"),
      },
      receiptKey: join(dir(), "keys/collector.pub"),
    });
    expect(() => validateCheckpointConfig({ tls: { cafile: "x" } })).toThrow(
      /unknown key "tls.cafile"/,
    );
    expect(() => validateCheckpointConfig({ tls: "ca.crt" })).toThrow(/"tls" must be an object/);
    expect(() => validateCheckpointConfig({ receiptKey: 1 })).toThrow(/"receiptKey" must be/);
  });

  it("a forwarder without a receipt key confirms at PUBACK; receipts without a key are refused", () => {
    const db = openOutboxDb(join(dir(), "cp.sqlite"));
    expect(new MqttForwarder(db, { url: "mqtt://127.0.0.1:1" }).receiptAlgorithm).toBeUndefined();
    expect(() => new MqttForwarder(db, { url: "mqtt://127.0.0.1:1", confirm: "receipt" })).toThrow(
      /needs a receiptKey/,
    );
    const { publicKey, privateKey } = generateReceiptKeyPair();
    expect(
      new MqttForwarder(db, { url: "mqtt://127.0.0.1:1", receiptKey: publicKey }).receiptAlgorithm,
    ).toBe("ed25519");
    expect(
      () => new Collector({ url: "mqtt://h", dbPath: "x.sqlite", receiptKey: publicKey }),
    ).toThrow(/public key/);
    expect(
      new Collector({ url: "mqtt://h", dbPath: "x.sqlite", receiptKey: privateKey }).sendsReceipts,
    ).toBe(true);
    expect(new Collector({ url: "mqtt://h", dbPath: "x.sqlite" }).sendsReceipts).toBe(false);
    db.close();
  });
});

describeWith(MOSQUITTO_TOOL)("forged receipts on an anonymous broker", () => {
  it("the issue's attack (answering every window with receipts) deletes nothing; the collector's signed receipts do", async () => {
    const broker = await Mosquitto.start();
    const db = openOutboxDb(join(dir(), "cp.sqlite"));
    const sent = enqueueWindows(db, "door-1", 0, 28);
    const keys = generateReceiptKeyPair();
    const states: ForwarderState[] = [];
    const forwarder = new MqttForwarder(db, {
      url: broker.url,
      receiptKey: keys.publicKey,
      receiptTimeoutMs: 300,
      receiptRejectReportMs: 60_000,
      onState: (state) => states.push(state),
    });
    const attacker = await forger(
      broker.url,
      {},
      {
        ed25519: generateReceiptKeyPair().privateKey,
        hmac: hmacReceiptKey(Buffer.alloc(32, 1)),
        genuine: keys.privateKey,
      },
    );
    const collector = new Collector({
      url: broker.url,
      dbPath: join(dir(), "fleet.sqlite"),
      clientId: "real-collector",
      receiptKey: keys.privateKey,
    });
    try {
      await forwarder.start();
      // Every window answered (and resent and answered again): none deleted.
      await waitFor(() => attacker.sent() >= 2 * 28 * 6, "the forger to answer every window twice");
      await sleep(300);
      expect(forwarder.depth).toBe(28);
      const rejected = states.filter((s) => s.state === "receipt-rejected");
      // Rate-limited: the first at once, the rest counted for later.
      expect(rejected).toHaveLength(1);
      expect(rejected[0]).toMatchObject({ topic: "proxkit/venue-a/door-1/receipts", count: 1 });

      await collector.start();
      await waitFor(
        () => forwarder.depth === 0 && collector.storedCount === 28,
        () => `the real collector's receipts (outbox ${forwarder.depth})`,
      );
    } finally {
      await forwarder.stop();
      await collector.stop();
      await attacker.client.endAsync();
      await broker.dispose();
    }
    // stop() reports the rejections held back by the rate limit.
    const rejected = states.filter(
      (s): s is Extract<ForwarderState, { state: "receipt-rejected" }> =>
        s.state === "receipt-rejected",
    );
    expect(rejected).toHaveLength(2);
    expect(rejected[1].count).toBeGreaterThan(2 * 28 * 6 - 2);
    expect(new Set(sent).size).toBe(28);
    db.close();
  }, 60_000);
});

/** Test broker options for the fleet configuration: a CA file and a user's password. */
/** The fleet CA and, for `user`, its password: a client's options and a forwarder's connection. */
function login(
  broker: Mosquitto,
  user?: keyof typeof PASSWORDS,
): { ca: Buffer; username?: string; password?: string } {
  return {
    ca: readFileSync(broker.pki!.ca),
    ...(user ? { username: user, password: PASSWORDS[user] } : {}),
  };
}

describeWith(FLEET_TOOL)("the shipped Mosquitto configuration (TLS, passwords, ACLs)", () => {
  it("refuses anonymous clients, plain-text clients and wrong passwords", async () => {
    const broker = await Mosquitto.startFleet({ users: PASSWORDS });
    try {
      await expect(client(broker.tlsUrl, { ...login(broker), clientId: "anon" })).rejects.toThrow(
        /Not authorized/,
      );
      await expect(
        client(broker.tlsUrl, {
          ...login(broker),
          clientId: "guess",
          username: "door-1",
          password: "wrong",
        }),
      ).rejects.toThrow(/Not authorized|Bad username or password/);
      // Plain MQTT on the TLS port: no connection.
      await expect(
        client(`mqtt://127.0.0.1:${broker.port}`, {
          clientId: "plain",
          username: "door-1",
          password: PASSWORDS["door-1"],
          connectTimeout: 2000,
        }),
      ).rejects.toThrow();
      const ok = await client(broker.tlsUrl, { ...login(broker, "door-1"), clientId: "door-1" });
      await ok.endAsync();
    } finally {
      await broker.dispose();
    }
  }, 60_000);

  it("ACLs: a checkpoint cannot read another's windows nor send it receipts; a stolen broker password without the receipt key deletes nothing", async () => {
    const broker = await Mosquitto.startFleet({ users: PASSWORDS });
    const db = openOutboxDb(join(dir(), "cp.sqlite"));
    enqueueWindows(db, "door-1", 0, 20);
    const keys = generateReceiptKeyPair();
    const states: ForwarderState[] = [];
    const forwarder = new MqttForwarder(db, {
      url: broker.tlsUrl,
      connection: login(broker, "door-1"),
      receiptKey: keys.publicKey,
      receiptTimeoutMs: 300,
      onState: (state) => states.push(state),
    });
    // door-2 is a real checkpoint of the fleet, compromised.
    const door2 = await client(broker.tlsUrl, { ...login(broker, "door-2"), clientId: "door-2" });
    const seenByDoor2: string[] = [];
    door2.on("message", (topic) => seenByDoor2.push(topic));
    // The collector's broker password, stolen, but not its receipt key.
    const attacker = await forger(broker.tlsUrl, login(broker, "collector"), {
      ed25519: generateReceiptKeyPair().privateKey,
      hmac: hmacReceiptKey(Buffer.alloc(32, 2)),
      genuine: keys.privateKey,
    });
    try {
      const granted = await door2.subscribeAsync(
        ["proxkit/venue-a/door-1/windows", "proxkit/+/+/windows"],
        { qos: 1 },
      );
      // Mosquitto grants the filters but delivers nothing the ACL does not allow.
      expect(granted).toHaveLength(2);
      await forwarder.start();
      await waitFor(() => attacker.sent() >= 20 * 6, "the forger to answer every window");
      // door-2 tries too: the broker drops its publication to door-1's receipts (Mosquitto 2.0
      // also closes its connection for it).
      door2.publish("proxkit/venue-a/door-1/receipts", '{"ids":[]}', { qos: 1 });
      await sleep(500);
      expect(forwarder.depth).toBe(20);
      expect(seenByDoor2).toEqual([]);
      expect(states.some((s) => s.state === "receipt-rejected")).toBe(true);
      expect(forwarder.connected).toBe(true);
    } finally {
      await forwarder.stop();
      await door2.endAsync(true);
      await attacker.client.endAsync();
      await broker.dispose();
      db.close();
    }
  }, 60_000);

  it("without a receipt key, a publication the ACL denies is not taken for delivered: the rows stay in the outbox", async () => {
    const broker = await Mosquitto.startFleet({ users: PASSWORDS });
    const db = openOutboxDb(join(dir(), "cp.sqlite"));
    // The broker user is door-1, but the outbox holds windows of checkpoint "door-9" (a
    // checkpoint name that differs from its user name): the ACL denies every one.
    enqueueWindows(db, "door-9", 0, 10);
    const states: ForwarderState[] = [];
    const forwarder = new MqttForwarder(db, {
      url: broker.tlsUrl,
      connection: login(broker, "door-1"),
      onState: (state) => states.push(state),
    });
    try {
      await forwarder.start();
      await waitFor(
        () => states.filter((s) => s.state === "rejected").length >= 10,
        "the broker to refuse each publication",
      );
      expect(forwarder.depth).toBe(10);
      const rejected = states.find((s) => s.state === "rejected") as { reason: string };
      expect(rejected.reason).toMatch(/not authori[sz]ed/i);
    } finally {
      await forwarder.stop();
      await broker.dispose();
      db.close();
    }
  }, 60_000);

  it("a checkpoint reaches the collector over TLS with client certificates, passwords and signed receipts: every window stored, the outbox empty", async () => {
    const broker = await Mosquitto.startFleet({
      users: PASSWORDS,
      clientCerts: ["door-1", "collector"],
      requireCertificate: true,
    });
    const pki = broker.pki!;
    const secret = hmacReceiptKey(Buffer.from(generateFleetSecret(), "base64"));
    const db = openOutboxDb(join(dir(), "cp.sqlite"));
    const sent = enqueueWindows(db, "door-1", 0, 200);
    const connection = (user: "door-1" | "collector") => ({
      ca: readFileSync(pki.ca),
      cert: readFileSync(pki.clients[user].cert),
      key: readFileSync(pki.clients[user].key),
      username: user,
      password: PASSWORDS[user],
    });
    const collectorStates: CollectorState[] = [];
    const collectorPath = join(dir(), "fleet.sqlite");
    const collector = new Collector({
      url: broker.tlsUrl,
      connection: connection("collector"),
      receiptKey: secret,
      dbPath: collectorPath,
      clientId: "fleet-collector",
      onState: (state) => collectorStates.push(state),
    });
    const forwarderStates: ForwarderState[] = [];
    const forwarder = new MqttForwarder(db, {
      url: broker.tlsUrl,
      connection: connection("door-1"),
      receiptKey: secret,
      onState: (state) => forwarderStates.push(state),
    });
    try {
      // Without a client certificate the broker now refuses even the right password.
      await expect(
        client(broker.tlsUrl, { ...login(broker, "door-1"), clientId: "no-cert" }),
      ).rejects.toThrow();
      await collector.start();
      await waitFor(
        () => collectorStates.some((s) => s.state === "subscribed"),
        () => `the collector's subscription (${JSON.stringify(collectorStates)})`,
      );
      await forwarder.start();
      await waitFor(
        () => forwarder.depth === 0 && collector.storedCount === 200,
        () =>
          `every window (outbox ${forwarder.depth}, stored ${collector.storedCount}) ${JSON.stringify(forwarderStates.slice(-3))}`,
      );
      expect(forwarderStates.some((s) => s.state === "receipt-rejected")).toBe(false);
    } finally {
      await forwarder.stop();
      await collector.stop();
      await broker.dispose();
    }
    const store = new Database(collectorPath, { readonly: true });
    const ids = (
      store.prepare("SELECT id FROM collected_windows ORDER BY id").all() as { id: string }[]
    ).map((r) => r.id);
    store.close();
    expect(ids).toEqual([...sent].sort());
    db.close();
  }, 60_000);

  it("a broker certificate from another CA is refused: a disconnected state with the reason, retried, no crash", async () => {
    const broker = await Mosquitto.startFleet({ users: PASSWORDS });
    const { makeTestPki } = await import("./mosquitto.js");
    const other = makeTestPki(dir());
    const db = openOutboxDb(join(dir(), "cp.sqlite"));
    enqueueWindows(db, "door-1", 0, 3);
    const states: ForwarderState[] = [];
    const forwarder = new MqttForwarder(db, {
      url: broker.tlsUrl,
      connection: { ca: readFileSync(other.ca), username: "door-1", password: PASSWORDS["door-1"] },
      minBackoffMs: 50,
      maxBackoffMs: 100,
      onState: (state) => states.push(state),
    });
    try {
      await forwarder.start();
      await waitFor(
        () => states.filter((s) => s.state === "disconnected").length >= 2,
        "two refused connections",
      );
      const refused = states.find((s) => s.state === "disconnected");
      expect(refused).toMatchObject({
        reason: expect.stringMatching(/certificate|CERT/),
      });
      expect(states.some((s) => s.state === "connected")).toBe(false);
      expect(forwarder.depth).toBe(3);
    } finally {
      await forwarder.stop();
      await broker.dispose();
      db.close();
    }
  }, 60_000);
});

describe("CLI", () => {
  const sim = (db: string, ...more: string[]) => [
    "checkpoint",
    "--radio",
    "sim",
    "--scenario",
    "checkpoint-queue",
    "--clock",
    "virtual",
    "--for",
    "10m",
    "--db",
    db,
    ...more,
  ];

  it("a bad key file, TLS options on mqtt:// and a private key given to a checkpoint are one line, exit 2", () => {
    const junk = join(dir(), "junk.key");
    writeFileSync(junk, "not a key at all!\n");
    const pair = generateReceiptKeyPair();
    const privateKey = join(dir(), "collector.key");
    writeFileSync(privateKey, pair.privatePem, { mode: 0o600 });
    const db = join(dir(), "cp.sqlite");
    const cases: [string[], RegExp][] = [
      [
        sim(db, "--mqtt", "mqtt://127.0.0.1:1", "--receipt-key", junk),
        /--receipt-key .*junk\.key: is neither/,
      ],
      [sim(db, "--mqtt", "mqtt://127.0.0.1:1", "--ca", junk), /need an encrypted connection/],
      [
        sim(db, "--mqtt", "mqtt://127.0.0.1:1", "--receipt-key", privateKey),
        /collector's private key/,
      ],
      [sim(db, "--receipt-key", privateKey), /--receipt-key needs --mqtt/],
      [
        [
          "collect",
          "--mqtt",
          "mqtt://127.0.0.1:1",
          "--db",
          db,
          "--receipt-key",
          join(dir(), "none"),
        ],
        /cannot read --receipt-key .*: no such file/,
      ],
      [
        ["collect", "--mqtt", "mqtts://127.0.0.1:1", "--db", db, "--cert", privateKey],
        /both --cert/,
      ],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = runCli(args);
      expect(stderr).toMatch(message);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(code).toBe(2);
    }
  });

  it("collect keygen writes PREFIX.key (0600) and PREFIX.pub, and never overwrites them", () => {
    const prefix = join(dir(), "collector");
    const first = runCli(["collect", "keygen", "--out", prefix]);
    expect(first.code).toBe(0);
    expect(statSync(`${prefix}.key`).mode & 0o777).toBe(0o600);
    expect(loadReceiptKey(`${prefix}.key`).kind).toBe("ed25519-private");
    expect(loadReceiptKey(`${prefix}.pub`).kind).toBe("ed25519-public");
    const again = runCli(["collect", "keygen", "--out", prefix]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists already/);
    const hmac = runCli(["collect", "keygen", "--out", join(dir(), "fleet"), "--type", "hmac"]);
    expect(hmac.code).toBe(0);
    expect(loadReceiptKey(join(dir(), "fleet.secret")).kind).toBe("hmac-sha256");
  });

  itWith(MOSQUITTO_TOOL)(
    "checkpoint on an anonymous mqtt:// broker warns at start, and says windows go at PUBACK without a key",
    async () => {
      const broker = await Mosquitto.start();
      try {
        const run = runCli(sim(join(dir(), "cp.sqlite"), "--mqtt", broker.url));
        expect(run.code, run.stderr).toBe(0);
        expect(run.stderr).toMatch(
          /proxkit: checkpoint: warning: the connection to mqtt:\/\/127\.0\.0\.1:\d+ is anonymous and unencrypted/,
        );
        expect(run.stderr).toMatch(
          /proxkit: checkpoint: no --receipt-key: windows leave the outbox at the broker's PUBACK/,
        );
        // A password in the URL: a warning, and the password in no log line.
        const withPassword = runCli(
          sim(
            join(dir(), "cp2.sqlite"),
            "--mqtt",
            `mqtt://door-1:hunter2@127.0.0.1:${broker.port}`,
          ),
        );
        expect(withPassword.code, withPassword.stderr).toBe(0);
        expect(withPassword.stderr).toMatch(/password in --mqtt is visible to every user/);
        expect(withPassword.stderr).not.toContain("hunter2");
        expect(withPassword.stderr).not.toMatch(/anonymous and unencrypted/);
      } finally {
        await broker.dispose();
      }
    },
    120_000,
  );

  itWith(FLEET_TOOL)(
    "checkpoint → collect over TLS with password files, the environment and signed receipts",
    async () => {
      const broker = await Mosquitto.startFleet({ users: PASSWORDS });
      const pki = broker.pki!;
      const prefix = join(dir(), "receipts");
      expect(runCli(["collect", "keygen", "--out", prefix]).code).toBe(0);
      const collectorPassword = join(dir(), "collector.password");
      writeFileSync(collectorPassword, `${PASSWORDS.collector}\n`, { mode: 0o600 });
      const config = join(dir(), "checkpoint.json");
      writeFileSync(
        config,
        JSON.stringify({
          site: "venue-a",
          checkpoint: "door-1",
          mqtt: broker.tlsUrl,
          mqttUsername: "door-1",
          tls: { ca: pki.ca },
          receiptKey: "receipts.pub", // relative to the config file
        }),
      );
      const collectorDb = join(dir(), "fleet.sqlite");
      const collector = spawn(
        process.execPath,
        [
          CLI,
          "collect",
          "--mqtt",
          broker.tlsUrl,
          "--db",
          collectorDb,
          "--ca",
          pki.ca,
          "--mqtt-username",
          "collector",
          "--mqtt-password-file",
          collectorPassword,
          "--receipt-key",
          `${prefix}.key`,
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let collectorLog = "";
      collector.stderr.on("data", (chunk) => {
        collectorLog += chunk;
      });
      const exited = new Promise<number | null>((resolve) => collector.once("exit", resolve));
      try {
        await waitFor(
          () => collectorLog.includes("subscribed to"),
          () => `the collector: ${collectorLog}`,
        );
        const checkpointDb = join(dir(), "cp.sqlite");
        const run = spawnSync(process.execPath, [CLI, ...sim(checkpointDb, "--config", config)], {
          encoding: "utf8",
          timeout: 120_000,
          env: { ...process.env, PROXKIT_MQTT_PASSWORD: PASSWORDS["door-1"] },
        });
        expect(run.status, run.stderr).toBe(0);
        expect(run.stderr).not.toMatch(/warning|no --receipt-key|rejected/);
        const cp = new Database(checkpointDb, { readonly: true });
        const stored = (cp.prepare("SELECT count(*) AS n FROM windows").get() as { n: number }).n;
        const outbox = (cp.prepare("SELECT count(*) AS n FROM outbox").get() as { n: number }).n;
        cp.close();
        expect(stored).toBeGreaterThan(0);
        expect(outbox).toBe(0);
        const count = () => {
          const db = new Database(collectorDb, { readonly: true });
          try {
            return (
              db.prepare("SELECT count(*) AS n FROM collected_windows").get() as { n: number }
            ).n;
          } finally {
            db.close();
          }
        };
        expect(count()).toBe(stored);
        collector.kill("SIGTERM");
        expect(await exited).toBe(0);
        expect(collectorLog).toMatch(/signing receipts with the Ed25519 private key/);
        expect(collectorLog).not.toMatch(/anonymous/);
      } finally {
        collector.kill("SIGKILL");
        await broker.dispose();
      }
    },
    180_000,
  );
});
