/** Builds btsnoop captures with chosen record times, for the tests of implausible times. */
import { fromHex } from "../../src/core/hex.js";
import { DATALINK_H4 } from "../../src/radio/replay/btsnoop.js";
import { BtsnoopWriter } from "../../src/radio/replay/btsnoop-writer.js";
import { encodeAdvertisingReportEvent } from "../../src/radio/replay/hci-events.js";

/** A GAEN advertisement (its RPI and AEM are arbitrary bytes). */
export const GAEN_PAYLOAD = fromHex(
  "02011a03036ffd17166ffd8be6cd371c5c891604bfbe49df84509672033874",
);

/** A capture of one GAEN report at each time. */
export function captureAt(path: string, timesMs: readonly number[]): string {
  const writer = new BtsnoopWriter(path, DATALINK_H4);
  timesMs.forEach((atMs, i) => {
    writer.event(
      atMs,
      encodeAdvertisingReportEvent([
        { address: fromHex("1a2b3c4d5e6f"), rssiDbm: -40 - (i % 50), data: GAEN_PAYLOAD },
      ]),
    );
  });
  writer.close();
  return path;
}
