import { join } from "node:path";
import Database from "better-sqlite3";
import { expect, it } from "vitest";
import { Collector, type CollectorState } from "../../src/checkpoint/collector.js";
import { type ForwarderState, MqttForwarder } from "../../src/checkpoint/mqtt-forwarder.js";
import { generateReceiptKeyPair } from "../../src/checkpoint/receipt-signature.js";
import {
  enqueueWindows,
  Mosquitto,
  mqttTestFile,
  openOutboxDb,
  waitFor,
  MOSQUITTO_TOOL,
} from "./mosquitto.js";
import { describeWith } from "../support/requirements.js";

const dir = mqttTestFile("proxkit-broker-kill-");

const WINDOWS = 1500;
const CHUNK = 10;
const KILLS = 3;

describeWith(MOSQUITTO_TOOL)("broker killed mid-stream", () => {
  it("the collector ends with exactly the windows sent, once each, and the outbox is empty", async () => {
    // A snapshot every second, so a SIGKILL loses what the broker acknowledged since: the
    // checkpoint holds those windows until the collector's receipts name them.
    const broker = await Mosquitto.start({ autosaveS: 1 });
    // Signed receipts: the checkpoint deletes a window only on the collector's word.
    const keys = generateReceiptKeyPair();
    const collectorPath = join(dir(), "fleet.sqlite");
    const collectorStates: CollectorState[] = [];
    const collector = new Collector({
      url: broker.url,
      dbPath: collectorPath,
      clientId: "fleet-collector",
      receiptKey: keys.privateKey,
      minBackoffMs: 100,
      maxBackoffMs: 1000,
      onState: (state) => collectorStates.push(state),
    });
    const outbox = openOutboxDb(join(dir(), "checkpoint.sqlite"));
    const forwarderStates: ForwarderState[] = [];
    const forwarder = new MqttForwarder(outbox, {
      url: broker.url,
      receiptKey: keys.publicKey,
      minBackoffMs: 100,
      maxBackoffMs: 1000,
      pollMs: 50,
      receiptTimeoutMs: 2000,
      onState: (state) => forwarderStates.push(state),
    });
    const sent: string[] = [];
    let producer: NodeJS.Timeout | undefined;
    try {
      await collector.start();
      await waitFor(
        () => collectorStates.some((s) => s.state === "subscribed"),
        "the subscription",
      );
      // The collector's session is on disk before the crash, as it is on any broker that has run a while.
      await broker.save();
      await forwarder.start();

      // The checkpoint keeps closing windows throughout, outage or not: a quarter of them
      // before each crash, the rest after the last.
      const phase = WINDOWS / (KILLS + 1);
      let allowed = phase;
      producer = setInterval(() => {
        if (sent.length >= allowed) return;
        sent.push(...enqueueWindows(outbox, "door-1", sent.length, CHUNK));
        forwarder.wake();
      }, 10);

      // Three crashes, each once the collector is back and the stream has moved on.
      const atKills: { stored: number; sent: number; depth: number }[] = [];
      for (let kill = 1; kill <= KILLS; kill++) {
        await waitFor(
          () => collector.storedCount >= (kill - 0.5) * phase,
          `the stream to be under way before kill ${kill}`,
        );
        await broker.kill();
        atKills.push({ stored: collector.storedCount, sent: sent.length, depth: forwarder.depth });
        const failures = forwarderStates.filter((s) => s.state === "disconnected").length;
        await waitFor(
          () => forwarderStates.filter((s) => s.state === "disconnected").length >= failures + 2,
          "the forwarder to retry against the dead broker",
        );
        const subscriptions = collectorStates.filter((s) => s.state === "subscribed").length;
        await broker.restart();
        await waitFor(
          () => collectorStates.filter((s) => s.state === "subscribed").length > subscriptions,
          "the collector to come back",
        );
        allowed += phase;
      }
      await waitFor(() => sent.length >= WINDOWS, "the producer to finish");
      await waitFor(
        () => forwarder.depth === 0 && collector.storedCount === WINDOWS,
        () => {
          const db = new Database(collectorPath, { readonly: true });
          const have = new Set(
            (db.prepare("SELECT id FROM collected_windows").all() as { id: string }[]).map(
              (r) => r.id,
            ),
          );
          db.close();
          const missing = sent.map((id, i) => (have.has(id) ? -1 : i)).filter((i) => i >= 0);
          return `every window (stored ${collector.storedCount} of ${WINDOWS}, outbox ${forwarder.depth}) missing #${missing.join(", #")}; at the kills ${JSON.stringify(atKills)}`;
        },
        90_000,
      );
      // Duplicates may still be arriving; none may add a row.
      await new Promise((resolve) => setTimeout(resolve, 500));

      // Each kill really was mid-stream: windows stored, others waiting or still to come.
      for (const at of atKills) {
        expect(at.stored).toBeGreaterThan(0);
        expect(at.sent).toBeLessThan(WINDOWS);
      }
      console.info(
        `broker kills at ${atKills.map((at) => `${at.stored} stored/${at.depth} in the outbox/${WINDOWS - at.sent} to come`).join("; ")}; ` +
          `collector saw ${collector.counts.duplicates} duplicates; forwarder connected ${forwarderStates.filter((s) => s.state === "connected").length} times`,
      );
    } finally {
      clearInterval(producer);
      await forwarder.stop();
      await collector.stop();
      await broker.dispose();
    }
    expect(outbox.prepare("SELECT count(*) AS n FROM outbox").get()).toEqual({ n: 0 });
    outbox.close();
    const store = new Database(collectorPath, { readonly: true });
    const rows = store.prepare("SELECT id FROM collected_windows ORDER BY id").all() as {
      id: string;
    }[];
    store.close();
    expect(rows).toHaveLength(WINDOWS);
    expect(rows.map((r) => r.id)).toEqual([...sent].sort());
  }, 180_000);
});
