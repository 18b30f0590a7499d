import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CodecError } from "../../src/core/errors.js";
import { fromHex, toHex } from "../../src/core/hex.js";
import {
  BtsnoopDecoder,
  type BtsnoopRecord,
  btsnoopToUnixUs,
  DATALINK_H4,
  DATALINK_HCI,
  DATALINK_MONITOR,
  hciPacketOf,
  readBtsnoopFileSync,
  unixUsToBtsnoop,
} from "../../src/radio/replay/btsnoop.js";
import {
  BtsnoopWriter,
  btsnoopHeader,
  btsnoopRecord,
} from "../../src/radio/replay/btsnoop-writer.js";
import {
  type CaptureSighting,
  readCaptureSightingsSync,
} from "../../src/radio/replay/capture-sightings.js";
import {
  type AdvertisingReport,
  encodeAdvertisingReportEvent,
  encodeExtendedAdvertisingReportEvent,
  forEachAdvertisingReport,
} from "../../src/radio/replay/hci-events.js";

const dir = mkdtempSync(join(tmpdir(), "proxkit-btsnoop-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GAEN_PAYLOAD = fromHex("02011a03036ffd17166ffd8be6cd371c5c891604bfbe49df84509672033874");
const BLUEZONE_PAYLOAD = fromHex(`0303564e0fffb522${"0102030405060708090a0b0c"}`);
const ADDRESS = fromHex("1a2b3c4d5e6f");
const T0 = Date.UTC(2021, 0, 4, 9);

/** An LE Advertising Report event, written out by hand from §7.7.65.2. */
const GOLDEN_EVENT =
  "3e" + // LE Meta event
  "2b" + // parameter length: 43
  "02" + // subevent: LE Advertising Report
  "01" + // one report
  "03" + // ADV_NONCONN_IND
  "01" + // random address
  "6f5e4d3c2b1a" + // address, little-endian
  "1f" + // 31 bytes of data
  toHex(GAEN_PAYLOAD) +
  "bd"; // RSSI -67

function decodeAll(bytes: Uint8Array, chunk = bytes.length) {
  const records: { offset: number; flags: number; unixUs: number; data: string }[] = [];
  const decoder = new BtsnoopDecoder((r: BtsnoopRecord) =>
    records.push({ offset: r.offset, flags: r.flags, unixUs: r.unixUs, data: toHex(r.data) }),
  );
  for (let i = 0; i < bytes.length; i += chunk) decoder.push(bytes.subarray(i, i + chunk));
  decoder.finish();
  return { records, datalink: decoder.datalink };
}

function expectCodecError(f: () => unknown, message: RegExp, offset: number) {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).message).toMatch(message);
    expect((error as CodecError).offset).toBe(offset);
    return;
  }
  throw new Error("expected a CodecError");
}

describe("btsnoop format", () => {
  it("header: magic, version 1, datalink, big-endian", () => {
    expect(toHex(btsnoopHeader(DATALINK_H4))).toBe("6274736e6f6f7000" + "00000001" + "000003ea");
    expect(toHex(btsnoopHeader(DATALINK_MONITOR))).toBe(
      "6274736e6f6f7000" + "00000001" + "000007d1",
    );
  });

  it("timestamps: µs since 0 AD; 2000-01-01 is 0x00E03AB44A676000", () => {
    expect(unixUsToBtsnoop(Date.UTC(2000, 0, 1) * 1000)).toBe(0x00e03ab44a676000n);
    const t = unixUsToBtsnoop(T0 * 1000 + 123);
    expect(btsnoopToUnixUs(Number(t >> 32n), Number(t & 0xffffffffn))).toBe(T0 * 1000 + 123);
  });

  it("record: orig len, incl len, flags, drops, timestamp, data", () => {
    const record = btsnoopRecord(Date.UTC(2000, 0, 1), 0x00010003, fromHex("0e0401"), { drops: 2 });
    expect(toHex(record)).toBe(
      "00000003" + "00000003" + "00010003" + "00000002" + "00e03ab44a676000" + "0e0401",
    );
  });

  it("reads a hand-made H4 capture (Android snoop log layout)", () => {
    const bytes = fromHex(
      toHex(btsnoopHeader(DATALINK_H4)) + toHex(btsnoopRecord(T0, 3, fromHex(`04${GOLDEN_EVENT}`))),
    );
    const { records, datalink } = decodeAll(bytes);
    expect(datalink).toBe(DATALINK_H4);
    expect(records).toHaveLength(1);
    expect(records[0].offset).toBe(16);
    expect(records[0].unixUs).toBe(T0 * 1000);
    const reports: AdvertisingReport[] = [];
    const decoder = new BtsnoopDecoder((r) => {
      const packet = hciPacketOf(DATALINK_H4, r);
      expect(packet.kind).toBe("event");
      expect(packet.offset).toBe(16 + 24 + 1);
      forEachAdvertisingReport(packet.packet, packet.offset, (report) =>
        reports.push({ ...report, data: report.data.slice() }),
      );
    });
    decoder.push(bytes);
    expect(reports).toHaveLength(1);
    expect(toHex(reports[0].address)).toBe("1a2b3c4d5e6f");
    expect(reports[0].rssiDbm).toBe(-67);
    expect(reports[0].eventType).toBe(3);
    expect(reports[0].addressType).toBe(1);
    expect(toHex(reports[0].data)).toBe(toHex(GAEN_PAYLOAD));
  });

  it("the encoders write the layouts of §7.7.65.2 and §7.7.65.13", () => {
    expect(
      toHex(encodeAdvertisingReportEvent([{ address: ADDRESS, rssiDbm: -67, data: GAEN_PAYLOAD }])),
    ).toBe(GOLDEN_EVENT);
    const ext = encodeExtendedAdvertisingReportEvent([
      { address: ADDRESS, rssiDbm: -70, txPowerDbm: 4, data: BLUEZONE_PAYLOAD },
    ]);
    expect(toHex(ext.subarray(0, 4 + 24))).toBe(
      "3e" +
        (2 + 24 + BLUEZONE_PAYLOAD.length).toString(16) +
        "0d01" +
        "1000" + // event type: legacy ADV_NONCONN_IND, complete
        "01" +
        "6f5e4d3c2b1a" +
        "01" + // primary PHY LE 1M
        "00" +
        "ff" +
        "04" + // TX power +4
        "ba" + // RSSI -70
        "0000" +
        "00" +
        "000000000000" +
        BLUEZONE_PAYLOAD.length.toString(16).padStart(2, "0"),
    );
  });

  it("several reports per event, legacy and extended", () => {
    const inputs = [
      { address: ADDRESS, rssiDbm: -50, data: GAEN_PAYLOAD },
      { address: fromHex("3f0000000001"), rssiDbm: -90, data: BLUEZONE_PAYLOAD },
      { address: fromHex("000000000002"), rssiDbm: -1, data: new Uint8Array(0) },
    ];
    for (const encode of [encodeAdvertisingReportEvent, encodeExtendedAdvertisingReportEvent]) {
      const out: AdvertisingReport[] = [];
      forEachAdvertisingReport(
        encode(inputs.slice(0, encode === encodeAdvertisingReportEvent ? 3 : 2)),
        0,
        (r) => out.push(r),
      );
      expect(out.map((r) => [toHex(r.address), r.rssiDbm, toHex(r.data)])).toEqual(
        inputs.slice(0, out.length).map((i) => [toHex(i.address), i.rssiDbm, toHex(i.data)]),
      );
    }
  });

  it("any chunking gives the same records (streamed, bounded memory)", () => {
    const path = join(dir, "chunks.btsnoop");
    const writer = new BtsnoopWriter(path, DATALINK_MONITOR);
    writer.newIndex(T0, ADDRESS);
    for (let i = 0; i < 50; i++)
      writer.event(
        T0 + i * 250.5,
        encodeAdvertisingReportEvent([
          { address: ADDRESS, rssiDbm: -60 - (i % 20), data: GAEN_PAYLOAD },
        ]),
        i % 2,
      );
    writer.close();
    const bytes = new Uint8Array(readFileSync(path));
    const whole = decodeAll(bytes);
    expect(whole.records).toHaveLength(51);
    for (const chunk of [1, 7, 24, 25, 100]) expect(decodeAll(bytes, chunk)).toEqual(whole);
    expect(whole.records[2].flags).toBe(0x00010003); // controller 1, monitor opcode 3 (event)
    expect(whole.records[2].unixUs).toBe((T0 + 250.5) * 1000);
  });

  it("rejects malformed and truncated files with the offset", () => {
    const good = fromHex(
      toHex(btsnoopHeader(DATALINK_H4)) + toHex(btsnoopRecord(T0, 3, fromHex(`04${GOLDEN_EVENT}`))),
    );
    expectCodecError(() => decodeAll(fromHex("6274736e6f6f7001")), /not a btsnoop file/, 7);
    expectCodecError(() => decodeAll(good.subarray(0, 10)), /shorter than the 16-byte header/, 0);
    const v2 = good.slice();
    v2[11] = 2;
    expectCodecError(() => decodeAll(v2), /version 2/, 8);
    const link = good.slice();
    link[15] = 0xeb; // 1003 BCSP
    expectCodecError(() => decodeAll(link), /datalink 1003/, 12);
    expectCodecError(() => decodeAll(good.subarray(0, good.length - 1)), /truncated/, 16);
    expectCodecError(() => decodeAll(good.subarray(0, 30)), /truncated/, 16);
    const incl = good.slice();
    incl[23] = 0xff; // included length > original
    expectCodecError(() => decodeAll(incl), /exceeds the original length/, 16);
    const huge = good.slice();
    huge.set([0x7f, 0, 0, 0, 0x7f, 0, 0, 0], 16);
    expectCodecError(() => decodeAll(huge), /implausible length/, 16);
    // A report whose data length runs past its event.
    const bad = fromHex(GOLDEN_EVENT);
    bad[12] = 0x30;
    expectCodecError(
      () => forEachAdvertisingReport(bad, 41, () => {}),
      /runs past the end/,
      41 + 4,
    );
  });

  it("un-encapsulated HCI (1001): direction and kind from the flags", () => {
    const record = (flags: number) => ({
      offset: 16,
      originalLength: 3,
      flags,
      drops: 0,
      unixUs: 0,
      data: fromHex("0e0401"),
    });
    expect(hciPacketOf(DATALINK_HCI, record(3)).kind).toBe("event");
    expect(hciPacketOf(DATALINK_HCI, record(2)).kind).toBe("command");
    expect(hciPacketOf(DATALINK_HCI, record(1)).kind).toBe("acl");
    expect(hciPacketOf(DATALINK_MONITOR, record(0x00020002)).index).toBe(2);
  });
});

describe("capture sightings", () => {
  it("decodes every protocol's reports, skips what cannot be a sighting", () => {
    const path = join(dir, "mixed.btsnoop");
    const writer = new BtsnoopWriter(path, DATALINK_H4);
    writer.event(
      T0,
      encodeAdvertisingReportEvent([
        { address: ADDRESS, rssiDbm: -60, data: GAEN_PAYLOAD },
        { address: ADDRESS, rssiDbm: -61, data: BLUEZONE_PAYLOAD },
        { address: ADDRESS, rssiDbm: 127, data: GAEN_PAYLOAD }, // RSSI not available
        { address: ADDRESS, rssiDbm: -62, data: fromHex("020106") }, // not a proximity app
        { address: ADDRESS, rssiDbm: -63, data: fromHex("05166ffd0102") }, // GAEN data of the wrong length
      ]),
    );
    writer.event(T0 + 5, fromHex("0e0401030c00")); // Command Complete: ignored
    writer.event(
      T0 + 10,
      encodeExtendedAdvertisingReportEvent([
        { address: ADDRESS, rssiDbm: -64, data: GAEN_PAYLOAD, eventType: 0x0020 }, // incomplete
        { address: ADDRESS, rssiDbm: -65, txPowerDbm: -8, data: GAEN_PAYLOAD },
      ]),
    );
    writer.close();
    const seen: CaptureSighting[] = [];
    const counts = readCaptureSightingsSync(path, (s) => seen.push(s));
    expect(counts).toMatchObject({ records: 3, reports: 7, sightings: 3, skipped: 3 });
    expect(seen.map((s) => [s.protocol, s.rssiDbm, s.atMs])).toEqual([
      ["gaen", -60, T0],
      ["bluezone", -61, T0],
      ["gaen", -65, T0 + 10],
    ]);
    expect(toHex(seen[0].id)).toBe("8be6cd371c5c891604bfbe49df845096");
    expect(toHex(seen[0].aem!)).toBe("72033874");
    expect(seen[2].txPowerDbm).toBe(-8);
    const onlyBluezone: CaptureSighting[] = [];
    readCaptureSightingsSync(path, (s) => onlyBluezone.push(s), ["bluezone"]);
    expect(onlyBluezone.map((s) => s.protocol)).toEqual(["bluezone"]);
  });

  it("a record cut by the snapshot length is not decoded", () => {
    const path = join(dir, "snap.btsnoop");
    const event = fromHex(`04${GOLDEN_EVENT}`);
    writeFileSync(
      path,
      Buffer.concat([
        btsnoopHeader(DATALINK_H4),
        btsnoopRecord(T0, 3, event.subarray(0, 20), { originalLength: event.length }),
      ]),
    );
    const seen: CaptureSighting[] = [];
    expect(readCaptureSightingsSync(path, (s) => seen.push(s)).records).toBe(1);
    expect(seen).toHaveLength(0);
    expect(readBtsnoopFileSync(path, () => {}).records).toBe(1);
  });
});
