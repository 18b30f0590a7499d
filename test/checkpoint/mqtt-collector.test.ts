import { statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { connect } from "mqtt";
import { describe, expect, it } from "vitest";
import {
  Collector,
  type CollectorState,
  CollectorStore,
  validateTopicFilter,
} from "../../src/checkpoint/collector.js";
import { MqttForwarder } from "../../src/checkpoint/mqtt-forwarder.js";
import { ConfigError, StoreError } from "../../src/core/errors.js";
import {
  enqueueWindows,
  liveHandles,
  Mosquitto,
  mqttTestFile,
  openOutboxDb,
  waitFor,
  MOSQUITTO_TOOL,
} from "./mosquitto.js";
import { describeWith } from "../support/requirements.js";

const dir = mqttTestFile("proxkit-collector-");

const TOPIC = "proxkit/venue-a/door-1/windows";
const bytes = (text: string) => new TextEncoder().encode(text);

function storedIds(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (
      db.prepare("SELECT id FROM collected_windows ORDER BY id").all() as { id: string }[]
    ).map((row) => row.id);
  } finally {
    db.close();
  }
}

describe("CollectorStore", () => {
  it("creates its schema (user_version 1, WAL) in a file of mode 0600, and reopens it", () => {
    const path = join(dir(), "fleet.sqlite");
    const store = new CollectorStore(path);
    expect(store.db.pragma("user_version", { simple: true })).toBe(CollectorStore.SCHEMA_VERSION);
    expect(store.db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(store.store(TOPIC, bytes('{"id":"a"}')).kind).toBe("stored");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
    store.close();
    const again = new CollectorStore(path);
    expect(again.count).toBe(1);
    again.close();
  });

  it("stores a window once however often it arrives, with site and checkpoint from the topic", () => {
    const store = new CollectorStore(join(dir(), "fleet.sqlite"));
    const window = '{"id":"door-1:00ff:1790000000000","startMs":1790000000000}';
    expect(store.store(TOPIC, bytes(window))).toEqual({
      kind: "stored",
      id: "door-1:00ff:1790000000000",
    });
    expect(store.store(TOPIC, bytes(window)).kind).toBe("duplicate");
    expect(store.count).toBe(1);
    expect(
      store.db.prepare("SELECT site, checkpoint, payload FROM collected_windows").get(),
    ).toEqual({ site: "venue-a", checkpoint: "door-1", payload: window });
    store.close();
  });

  it("rejects malformed messages with a one-line reason", () => {
    const store = new CollectorStore(join(dir(), "fleet.sqlite"));
    const cases: [string, Uint8Array, RegExp][] = [
      [TOPIC, bytes("not json"), /not JSON/],
      [TOPIC, bytes("[1,2]"), /not a JSON object/],
      [TOPIC, bytes('{"startMs":1}'), /no usable "id"/],
      [TOPIC, bytes('{"id":""}'), /no usable "id"/],
      [TOPIC, bytes('{"id":"a\\nb"}'), /no usable "id"/],
      [TOPIC, new Uint8Array([0x7b, 0xff, 0x7d]), /not UTF-8/],
      ["proxkit/venue-a/windows", bytes('{"id":"x"}'), /topic/],
    ];
    for (const [topic, payload, reason] of cases) {
      const outcome = store.store(topic, payload);
      expect(outcome.kind).toBe("rejected");
      if (outcome.kind === "rejected") {
        expect(outcome.reason).toMatch(reason);
        expect(outcome.reason).not.toContain("\n");
      }
    }
    expect(store.count).toBe(0);
    store.close();
  });

  it("refuses a database that is not a collector's, a newer schema, and a missing folder", () => {
    const checkpointDb = join(dir(), "checkpoint.sqlite");
    openOutboxDb(checkpointDb).close();
    expect(() => new CollectorStore(checkpointDb)).toThrow(/not a collector's/);

    const newer = join(dir(), "newer.sqlite");
    new CollectorStore(newer).close();
    const db = new Database(newer);
    db.pragma("user_version = 99");
    db.close();
    expect(() => new CollectorStore(newer)).toThrow(StoreError);

    expect(() => new CollectorStore(join(dir(), "no", "such", "fleet.sqlite"))).toThrow(
      /the folder .* does not exist/,
    );
  });

  it("topic filters: wildcards only as whole levels", () => {
    expect(validateTopicFilter("proxkit/+/+/windows")).toBe("proxkit/+/+/windows");
    expect(validateTopicFilter("proxkit/#")).toBe("proxkit/#");
    for (const bad of ["", "proxkit/a+/windows", "proxkit/#/windows"])
      expect(() => validateTopicFilter(bad)).toThrow(ConfigError);
  });
});

describeWith(MOSQUITTO_TOOL)("Collector against Mosquitto", () => {
  it("stores each window once, warns about malformed messages and keeps running", async () => {
    const broker = await Mosquitto.start();
    const path = join(dir(), "fleet.sqlite");
    const warnings: string[] = [];
    const states: CollectorState[] = [];
    const collector = new Collector({
      url: broker.url,
      dbPath: path,
      clientId: "collector-a",
      warn: (line) => warnings.push(line),
      onState: (state) => states.push(state),
    });
    const publisher = connect(broker.url, { clientId: "publisher", reconnectPeriod: 0 });
    let handlesBefore = 0;
    try {
      await waitFor(() => publisher.connected, "the publisher to connect");
      handlesBefore = liveHandles();
      await collector.start();
      await waitFor(() => states.some((s) => s.state === "subscribed"), "the subscription");
      const window = JSON.stringify({ id: "door-1:aa:1" });
      await publisher.publishAsync(TOPIC, window, { qos: 1 });
      await publisher.publishAsync(TOPIC, window, { qos: 1 });
      await publisher.publishAsync(TOPIC, "{broken", { qos: 1 });
      await publisher.publishAsync(TOPIC, '{"no":"id"}', { qos: 0 });
      await publisher.publishAsync(TOPIC, JSON.stringify({ id: "door-1:bb:2" }), { qos: 1 });
      await waitFor(
        () => collector.counts.stored === 2 && collector.counts.rejected === 2,
        () => `two windows and two rejections (${JSON.stringify(collector.counts)})`,
      );
      expect(collector.counts).toEqual({ stored: 2, duplicates: 1, rejected: 2 });
      expect(warnings).toHaveLength(2);
      expect(warnings[0]).toMatch(
        /^ignored a message on "proxkit\/venue-a\/door-1\/windows": .*not JSON/,
      );
    } finally {
      await collector.stop();
      expect(liveHandles()).toBeLessThanOrEqual(handlesBefore);
      await publisher.endAsync();
      await broker.dispose();
    }
    expect(storedIds(path)).toEqual(["door-1:aa:1", "door-1:bb:2"]);
    expect(states.at(-1)?.state).toBe("stopped");
  }, 120_000);

  it("a database failure stops the collector without acknowledging: the window comes again after a restart", async () => {
    const broker = await Mosquitto.start();
    const path = join(dir(), "fleet.sqlite");
    const states: CollectorState[] = [];
    const fatal: Error[] = [];
    const options = {
      url: broker.url,
      dbPath: path,
      clientId: "collector-c",
      onState: (state: CollectorState) => states.push(state),
      onFatal: (error: Error) => fatal.push(error),
    };
    const publisher = connect(broker.url, { clientId: "publisher-c", reconnectPeriod: 0 });
    try {
      const first = new Collector(options);
      await first.start();
      await waitFor(() => states.some((s) => s.state === "subscribed"), "the subscription");
      // The disk fails: every write is refused from now on.
      (first as unknown as { store: CollectorStore }).store.db.pragma("query_only = 1");
      await waitFor(() => publisher.connected, "the publisher");
      await publisher.publishAsync(TOPIC, '{"id":"door-1:cc:3"}', { qos: 1 });
      await waitFor(() => states.at(-1)?.state === "stopped", "the collector to stop itself");
      expect(fatal).toHaveLength(1);
      expect(fatal[0]).toBeInstanceOf(StoreError);
      expect(fatal[0].message).toMatch(/cannot store window door-1:cc:3/);
      expect(storedIds(path)).toEqual([]);

      const second = new Collector(options);
      await second.start();
      await waitFor(() => second.storedCount === 1, "the window, sent again by the broker");
      await second.stop();
      expect(storedIds(path)).toEqual(["door-1:cc:3"]);
    } finally {
      await publisher.endAsync();
      await broker.dispose();
    }
  }, 60_000);

  it("a collector that was away receives what was published meanwhile (persistent session), even across a broker restart", async () => {
    const broker = await Mosquitto.start();
    const path = join(dir(), "fleet.sqlite");
    const states: CollectorState[] = [];
    const options = {
      url: broker.url,
      dbPath: path,
      clientId: "collector-b",
      minBackoffMs: 100,
      maxBackoffMs: 1000,
      onState: (state: CollectorState) => states.push(state),
    };
    const outbox = openOutboxDb(join(dir(), "cp.sqlite"));
    // The collector is away, so the checkpoint deletes at PUBACK (with receipts it would keep
    // the windows until the collector is back, which the kill test covers).
    const forwarder = new MqttForwarder(outbox, {
      url: broker.url,
      minBackoffMs: 100,
      confirm: "puback",
    });
    try {
      // First visit: creates the session and its subscription on the broker.
      const first = new Collector(options);
      await first.start();
      await waitFor(() => states.some((s) => s.state === "subscribed"), "the subscription");
      await first.stop();

      // Away: the checkpoint forwards 300 windows; the broker queues them for the session.
      const sent = enqueueWindows(outbox, "door-1", 0, 300);
      await forwarder.start();
      await waitFor(() => forwarder.depth === 0, "the outbox to drain");
      await forwarder.stop();
      await broker.restart(); // clean shutdown: mosquitto saves the queue

      states.length = 0;
      const second = new Collector(options);
      await second.start();
      await waitFor(() => second.storedCount === 300, "the queued windows", 60_000);
      expect(states.find((s) => s.state === "connected")).toMatchObject({ sessionPresent: true });
      await second.stop();
      expect(storedIds(path)).toEqual([...sent].sort());
    } finally {
      await forwarder.stop();
      await broker.dispose();
      outbox.close();
    }
  }, 120_000);
});
