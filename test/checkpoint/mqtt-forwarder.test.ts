import { join } from "node:path";
import Database from "better-sqlite3";
import { connect, type MqttClient } from "mqtt";
import { describe, expect, it } from "vitest";
import { Collector } from "../../src/checkpoint/collector.js";
import {
  type ForwarderState,
  MqttForwarder,
  parseWindowsTopic,
  ReconnectBackoff,
  windowsTopic,
} from "../../src/checkpoint/mqtt-forwarder.js";
import { generateReceiptKeyPair } from "../../src/checkpoint/receipt-signature.js";
import { ConfigError, StoreError } from "../../src/core/errors.js";
import { SeededRandom } from "../../src/core/random.js";
import {
  enqueueWindows,
  liveHandles,
  Mosquitto,
  mqttTestFile,
  openOutboxDb,
  outboxDepth,
  waitFor,
  MOSQUITTO_TOOL,
} from "./mosquitto.js";
import { describeWith } from "../support/requirements.js";

const dir = mqttTestFile("proxkit-forwarder-");

/** A plain subscriber that records window ids in arrival order. */
async function subscriber(url: string): Promise<{ client: MqttClient; ids: string[] }> {
  const ids: string[] = [];
  const client = connect(url, { clientId: "test-subscriber", clean: true, reconnectPeriod: 0 });
  client.on("message", (_topic, payload) => ids.push(JSON.parse(payload.toString()).id));
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  await client.subscribeAsync("proxkit/+/+/windows", { qos: 1 });
  return { client, ids };
}

describe("topics and backoff", () => {
  it("windowsTopic builds proxkit/<site>/<checkpoint>/windows and refuses wildcard names", () => {
    expect(windowsTopic("venue-a", "door-1")).toBe("proxkit/venue-a/door-1/windows");
    expect(parseWindowsTopic("proxkit/venue-a/door-1/windows")).toEqual({
      site: "venue-a",
      checkpoint: "door-1",
    });
    for (const bad of ["", "a/b", "+", "#", "x\u0000"])
      expect(() => windowsTopic(bad, "door-1")).toThrow(ConfigError);
    expect(parseWindowsTopic("proxkit/venue-a/windows")).toBeUndefined();
    expect(parseWindowsTopic("other/venue-a/door-1/windows")).toBeUndefined();
  });

  it("backoff doubles from the minimum to the cap, each delay jittered within its upper half", () => {
    const backoff = new ReconnectBackoff(100, 1000, new SeededRandom(7));
    const ceilings = [100, 200, 400, 800, 1000, 1000, 1000];
    const delays = ceilings.map(() => backoff.nextDelayMs());
    delays.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(ceilings[i] / 2);
      expect(delay).toBeLessThanOrEqual(ceilings[i]);
    });
    expect(new Set(delays.slice(4)).size).toBeGreaterThan(1);
    backoff.reset();
    expect(backoff.nextDelayMs()).toBeLessThanOrEqual(100);
  });
});

describe("MqttForwarder: bad input", () => {
  it("a URL that is not mqtt:// is a ConfigError naming --mqtt", () => {
    const db = openOutboxDb(join(dir(), "cp.sqlite"));
    expect(() => new MqttForwarder(db, { url: "http://x" })).toThrow(
      /the MQTT URL "http:\/\/x" must be/,
    );
    expect(() => new MqttForwarder(db, { url: "broker:1883" })).toThrow(ConfigError);
    expect(() => new MqttForwarder(db, { url: "mqtt://x", batch: 0 })).toThrow(ConfigError);
    db.close();
  });

  it("a database without the outbox table is a StoreError", () => {
    const db = new Database(join(dir(), "empty.sqlite"));
    expect(() => new MqttForwarder(db, { url: "mqtt://127.0.0.1:1" })).toThrow(StoreError);
    db.close();
  });
});

describeWith(MOSQUITTO_TOOL)("MqttForwarder against Mosquitto", () => {
  it("confirm: puback: publishes the outbox in id order with QoS 1, deletes rows after their PUBACK, and stops cleanly", async () => {
    const broker = await Mosquitto.start();
    const { client, ids } = await subscriber(broker.url);
    const db = openOutboxDb(join(dir(), "cp.sqlite"));
    const sent = enqueueWindows(db, "door-1", 0, 250);
    const handlesBefore = liveHandles();
    const states: ForwarderState[] = [];
    const forwarder = new MqttForwarder(db, {
      url: broker.url,
      confirm: "puback",
      batch: 20,
      maxInflight: 50,
      pollMs: 100,
      onState: (state) => states.push(state),
    });
    try {
      expect(forwarder.depth).toBe(250);
      await forwarder.start();
      await waitFor(() => forwarder.depth === 0 && ids.length === 250, "250 windows delivered");
      expect(ids).toEqual(sent);
      // Rows added later are picked up by the poll (or at once with wake()).
      const more = enqueueWindows(db, "door-1", 250, 30);
      forwarder.wake();
      await waitFor(() => forwarder.depth === 0 && ids.length === 280, "30 more windows");
      expect(ids).toEqual([...sent, ...more]);
    } finally {
      await forwarder.stop();
      await client.endAsync();
      await broker.dispose();
    }
    expect(states.map((s) => s.state)).toEqual(["connecting", "connected", "stopped"]);
    expect(liveHandles()).toBeLessThanOrEqual(handlesBefore);
    db.close();
  }, 120_000);

  it("skips a row whose topic has a wildcard (a broker would drop the connection), reports it and keeps it", async () => {
    const broker = await Mosquitto.start();
    const { client, ids } = await subscriber(broker.url);
    const db = openOutboxDb(join(dir(), "cp.sqlite"));
    const [first] = enqueueWindows(db, "door-1", 0, 1);
    db.prepare("INSERT INTO outbox (topic, payload, created_ms) VALUES (?, ?, 0)").run(
      "proxkit/+/door-1/windows",
      '{"id":"bad"}',
    );
    const [last] = enqueueWindows(db, "door-1", 1, 1);
    const states: ForwarderState[] = [];
    const forwarder = new MqttForwarder(db, {
      url: broker.url,
      confirm: "puback",
      onState: (state) => states.push(state),
    });
    try {
      await forwarder.start();
      await waitFor(() => ids.length === 2 && forwarder.depth === 1, "the two good rows");
      expect(ids).toEqual([first, last]);
      expect(states.filter((s) => s.state === "rejected")).toMatchObject([
        { rowId: 2, reason: expect.stringMatching(/not a topic one can publish to/) },
      ]);
      expect(forwarder.connected).toBe(true);
    } finally {
      await forwarder.stop();
      await client.endAsync();
      await broker.dispose();
      db.close();
    }
  }, 60_000);

  it("retries an absent broker with backoff, keeps every row, and a restarted process delivers them", async () => {
    const port = await Mosquitto.freePort();
    const path = join(dir(), "cp.sqlite");
    const db = openOutboxDb(path);
    const sent = enqueueWindows(db, "door-2", 0, 120);
    const handlesBefore = liveHandles();
    const retries: number[] = [];
    const first = new MqttForwarder(db, {
      url: `mqtt://127.0.0.1:${port}`,
      minBackoffMs: 40,
      maxBackoffMs: 300,
      random: new SeededRandom(1),
      onState: (state) => {
        if (state.state === "disconnected") retries.push(state.retryInMs);
      },
    });
    await first.start();
    await waitFor(() => retries.length >= 6, "six failed connection attempts");
    await first.stop();
    expect(liveHandles()).toBeLessThanOrEqual(handlesBefore);
    const ceilings = [40, 80, 160, 300, 300, 300];
    ceilings.forEach((ceiling, i) => {
      expect(retries[i]).toBeGreaterThanOrEqual(ceiling / 2);
      expect(retries[i]).toBeLessThanOrEqual(ceiling);
    });
    expect(outboxDepth(db)).toBe(120);
    db.close();

    // The broker appears; a new process (a fresh connection to the same file) takes over.
    const broker = await Mosquitto.start({ port });
    const { client, ids } = await subscriber(broker.url);
    const reopened = openOutboxDb(path);
    const second = new MqttForwarder(reopened, { url: broker.url, confirm: "puback" });
    try {
      await second.start();
      await waitFor(() => second.depth === 0 && ids.length === 120, "the outbox after a restart");
      expect(ids).toEqual(sent);
    } finally {
      await second.stop();
      await client.endAsync();
      await broker.dispose();
      reopened.close();
    }
  }, 120_000);

  it("with a receipt key (receipts by default then) a row stays until a collector confirms it; windows sent before any collector listened are sent again", async () => {
    const broker = await Mosquitto.start();
    const { client, ids } = await subscriber(broker.url);
    const db = openOutboxDb(join(dir(), "cp.sqlite"));
    const sent = enqueueWindows(db, "door-1", 0, 50);
    const keys = generateReceiptKeyPair();
    const forwarder = new MqttForwarder(db, {
      url: broker.url,
      receiptKey: keys.publicKey,
      receiptTimeoutMs: 500,
    });
    const collector = new Collector({
      url: broker.url,
      dbPath: join(dir(), "fleet.sqlite"),
      clientId: "late-collector",
      receiptKey: keys.privateKey,
    });
    try {
      await forwarder.start();
      await waitFor(() => ids.length === 50, "the first 50 windows at the plain subscriber");
      // The broker has them all (PUBACK), but nothing has said they are stored anywhere.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(forwarder.depth).toBe(50);

      await collector.start();
      await waitFor(
        () => forwarder.depth === 0 && collector.storedCount === 50,
        () => `the resend to reach the collector (outbox ${forwarder.depth})`,
      );
      expect(ids.length).toBeGreaterThanOrEqual(100);
      expect(new Set(ids)).toEqual(new Set(sent));
    } finally {
      await forwarder.stop();
      await collector.stop();
      await client.endAsync();
      await broker.dispose();
      db.close();
    }
  }, 60_000);
});
