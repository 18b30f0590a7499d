/**
 * The body-position campaign as campaign records: two people stand 0.2-2 m (0.2 m steps) and
 * 3-5 m apart, each phone carried in the hand, a trouser pocket or a backpack, each
 * advertising and scanning for about a minute per distance.
 *
 * Source: pc-ng/rss_smartphone (P. C. Ng, P. Spachos, K. N. Plataniotis, "COVID-19 and Your
 * Smartphone: BLE-Based Smart Contact Tracing", IEEE Systems Journal 2021), MIT licence;
 * `body-position/` here. Read: `<Condition>/RSS_human<XY>.csv`, columns
 * `device,elapsed,rss,mRSS10,mRSS100,dist,label`.
 *
 * Reading of the files (checked on the data; the README does not say all of it):
 * - `device` names the phone that sent the packet: the authors kept the packets whose
 *   advertised name was one of their two phones. The receiver is the file's other phone.
 *   HandHand, HandPocket, PocketPocket and BackpackBackpack hold "gryphonelab" and
 *   "HTC One M9"; HandBackpack and PocketBackpack hold "N8" and "ASUS_Z00AD".
 * - `rss` is the raw RSSI (dBm); `mRSS10`/`mRSS100` are the authors' moving means, not read.
 * - `dist` is in cm; `elapsed` is seconds on the logging phone's clock (no wall clock is
 *   given): `atMs = elapsed * 1000`, so streams of different phones share no time base.
 * - Which phone was in which carry position in the mixed conditions is not documented. By
 *   convention here the folder name's first position is carried by the phone whose rows open
 *   the file (gryphonelab in HandPocket, ASUS_Z00AD in HandBackpack and PocketBackpack).
 * - The environment is not documented either; the recordings are taken as indoor, "office".
 * - Rows of one (distance, device) are one block in the file, so a placement is one session
 *   and one unit (both directions share it; they were recorded at the same time).
 * Quirks:
 * - HTC One M9 `elapsed` is rounded to 100 s in BackpackBackpack and PocketPocket (the file
 *   says 16300, 16400, ...): hundreds of records share one `atMs` there.
 * - PocketPocket, gryphonelab at 500 cm: the block holds a second copy of its own readings
 *   (`elapsed` jumps back 185 s and 875 (elapsed, rss) pairs repeat). Where `elapsed` jumps
 *   back inside a block, readings whose (elapsed, rss) an earlier segment already gave are
 *   dropped and the rest are put in time order.
 * - HandHand has no gryphonelab rows at 40 cm; its 140 cm block holds rows whose clock lies
 *   between the 20 and 60 cm blocks (probably the 40 cm rows, mislabelled). Kept as labelled.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { CodecError, ConfigError } from "../core/errors.js";
import type { CampaignRecord, CarryPosition } from "./campaign-record.js";

/** Citation for reports. */
export const BODY_POSITION_SOURCE =
  "P. C. Ng, P. Spachos, K. N. Plataniotis, pc-ng/rss_smartphone (MIT licence)";

/** The six conditions (folder name, file) in the order they are read. */
export const BODY_POSITION_CONDITIONS: readonly {
  readonly condition: string;
  readonly file: string;
}[] = [
  { condition: "HandHand", file: "RSS_humanHH.csv" },
  { condition: "HandPocket", file: "RSS_humanHP.csv" },
  { condition: "HandBackpack", file: "RSS_humanHB.csv" },
  { condition: "PocketPocket", file: "RSS_humanPP.csv" },
  { condition: "PocketBackpack", file: "RSS_humanPB.csv" },
  { condition: "BackpackBackpack", file: "RSS_humanBB.csv" },
];

/** Device names in the files as calibration-table names ("" where the model is unknown). */
export const BODY_POSITION_MODELS: Readonly<Record<string, string>> = {
  // A phone renamed after the authors' lab; its model is not published.
  gryphonelab: "",
  "HTC One M9": "HTC One M9",
  // ASUS_Z00AD is the ZenFone 2 (ZE551ML), listed under Asus in the table.
  ASUS_Z00AD: "Asus ASUS_Z00AD",
  N8: "",
};

const CARRY: Readonly<Record<string, CarryPosition>> = {
  Hand: "hand",
  Pocket: "pocket",
  Backpack: "bag",
};

const HEADER = "device,elapsed,rss,mRSS10,mRSS100,dist,label";

interface Reading {
  readonly elapsedS: number;
  /** The text of `elapsed`, to compare readings exactly. */
  readonly elapsedText: string;
  readonly rssiDbm: number;
  /** Index of the segment within the block (a new one starts where `elapsed` jumps back). */
  readonly segment: number;
}

interface Block {
  readonly distCm: number;
  readonly device: string;
  readonly readings: Reading[];
}

/**
 * Streams the six conditions (`dataDir` is the `body-position` folder), placement by placement
 * in file order, each placement's two directions in turn, each in time order. A missing
 * folder or file is a `ConfigError`; a malformed row a `CodecError` naming file and line.
 */
export function* loadBodyPosition(dataDir: string): Generator<CampaignRecord> {
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory())
    throw new ConfigError(`the body-position data folder ${dataDir} does not exist`, "E_INPUT");
  for (const { condition, file } of BODY_POSITION_CONDITIONS) {
    const path = join(dataDir, condition, file);
    if (!existsSync(path))
      throw new ConfigError(`the body-position file ${path} does not exist`, "E_INPUT");
    yield* loadCondition(path, condition);
  }
}

/** The two carry positions of a condition name ("HandBackpack" -> hand, bag). */
function carryPair(condition: string): [CarryPosition, CarryPosition] {
  const match = /^(Hand|Pocket|Backpack)(Hand|Pocket|Backpack)$/.exec(condition);
  if (!match) throw new ConfigError(`unknown body-position condition ${condition}`, "E_INPUT");
  return [CARRY[match[1]], CARRY[match[2]]];
}

function* loadCondition(path: string, condition: string): Generator<CampaignRecord> {
  const lines = readFileSync(path, "utf8")
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/);
  const fail = (lineIndex: number, message: string): never => {
    throw new CodecError(`${path} line ${lineIndex + 1}: ${message}`, undefined, "E_CAMPAIGN");
  };
  if (lines[0].trim() !== HEADER)
    fail(0, `expected the header "${HEADER}", got ${JSON.stringify(lines[0].slice(0, 80))}`);

  // Blocks by placement, then by device, in order of first appearance.
  const placements = new Map<number, Map<string, Block>>();
  const devices: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "") continue;
    const fields = line.split(",");
    if (fields.length !== 7) fail(i, `expected 7 fields, got ${fields.length}`);
    const [device, elapsedText, rssText, , , distText] = fields;
    if (device === "") fail(i, "device is empty");
    const elapsedS = Number(elapsedText);
    if (elapsedText.trim() === "" || !Number.isFinite(elapsedS))
      fail(i, `elapsed is not a number: ${JSON.stringify(elapsedText)}`);
    const rssiDbm = Number(rssText);
    if (rssText.trim() === "" || !Number.isFinite(rssiDbm))
      fail(i, `rss is not a number: ${JSON.stringify(rssText)}`);
    const distCm = Number(distText);
    if (distText.trim() === "" || !Number.isFinite(distCm) || distCm <= 0)
      fail(i, `dist is not a positive number of cm: ${JSON.stringify(distText)}`);
    if (!devices.includes(device)) {
      if (devices.length === 2)
        fail(
          i,
          `a third device ${JSON.stringify(device)} (the file pairs ${devices.join(" and ")})`,
        );
      devices.push(device);
    }
    let byDevice = placements.get(distCm);
    if (!byDevice) {
      byDevice = new Map();
      placements.set(distCm, byDevice);
    }
    let block = byDevice.get(device);
    if (!block) {
      block = { distCm, device, readings: [] };
      byDevice.set(device, block);
    }
    const previous = block.readings.at(-1);
    const segment =
      previous === undefined ? 0 : previous.segment + (elapsedS < previous.elapsedS ? 1 : 0);
    block.readings.push({ elapsedS, elapsedText: elapsedText.trim(), rssiDbm, segment });
  }
  if (devices.length !== 2)
    throw new CodecError(
      `${path}: expected rows of two phones, got ${devices.length}`,
      undefined,
      "E_CAMPAIGN",
    );

  const [firstCarry, secondCarry] = carryPair(condition);
  const carryOf = (device: string): CarryPosition =>
    device === devices[0] ? firstCarry : secondCarry;
  for (const byDevice of placements.values()) {
    for (const block of byDevice.values()) {
      const txId = block.device;
      const rxId = txId === devices[0] ? devices[1] : devices[0];
      const session = `${condition}/${block.distCm}cm`;
      for (const reading of inTimeOrder(block.readings)) {
        yield {
          campaign: "body-position",
          scenario: condition,
          session,
          unit: session,
          atMs: Math.round(reading.elapsedS * 1e6) / 1e3,
          rxId,
          txId,
          rxModel: BODY_POSITION_MODELS[rxId] ?? "",
          txModel: BODY_POSITION_MODELS[txId] ?? "",
          rssiDbm: reading.rssiDbm,
          distanceM: block.distCm / 100,
          environment: "office",
          rxCarry: carryOf(rxId),
          txCarry: carryOf(txId),
        };
      }
    }
  }
}

/**
 * A block's readings in time order. A block whose clock never goes back is returned as it is;
 * otherwise readings repeating an earlier segment's (elapsed, rss) are dropped (a pasted copy)
 * and the rest sorted stably by `elapsed`.
 */
function inTimeOrder(readings: readonly Reading[]): readonly Reading[] {
  if (readings.length === 0 || readings[readings.length - 1].segment === 0) return readings;
  const earlier = new Set<string>();
  const kept: Reading[] = [];
  let segment = 0;
  let current: string[] = [];
  for (const reading of readings) {
    if (reading.segment !== segment) {
      for (const key of current) earlier.add(key);
      current = [];
      segment = reading.segment;
    }
    const key = `${reading.elapsedText}|${reading.rssiDbm}`;
    current.push(key);
    if (reading.segment === 0 || !earlier.has(key)) kept.push(reading);
  }
  return kept.sort((a, b) => a.elapsedS - b.elapsedS);
}
