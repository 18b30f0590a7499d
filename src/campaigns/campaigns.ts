/**
 * The campaigns by name: where each lives under the data folder (`../shared/data` beside the
 * repository by default), its loader, and what it is for in the evaluation.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../core/errors.js";
import type { CampaignName, CampaignRecord } from "./campaign-record.js";
import { loadBodyPosition } from "./load-body-position.js";
import { loadDp3tAnechoic } from "./load-dp3t-anechoic.js";
import { loadDp3tExp05 } from "./load-dp3t-exp05.js";
import { loadHeraldEdison } from "./load-herald-edison.js";
import { loadMitMatrix } from "./load-mit-matrix.js";
import { loadPiMultichannel } from "./load-pi-multichannel.js";

export interface CampaignInfo {
  readonly name: CampaignName;
  /** The folder under the data root. */
  readonly folder: string;
  /** Who recorded it, where it comes from, its licence. */
  readonly source: string;
  readonly description: string;
  /**
   * `estimators`: distances vary, so it is held out in turn and fitted on; `offsets`: all at one
   * distance (1 m), it calibrates the devices and is never scored.
   */
  readonly role: "estimators" | "offsets";
  readonly load: (folder: string) => Iterable<CampaignRecord>;
}

/** The crowd scenarios of exp05 read for distances (walls: people behind walls, no distances). */
const EXP05_WITH_DISTANCES = ["lunch", "train", "office", "queue", "party"];

export const CAMPAIGNS: readonly CampaignInfo[] = [
  {
    name: "herald-edison",
    folder: "herald-edison",
    source: "Herald project, herald-analysis reference-data/rssi-raw-edison (Apache-2.0)",
    description: "robot rig, two phones on a cable car, 0-3.5 m (tests 5, 7, 8)",
    role: "estimators",
    load: loadHeraldEdison,
  },
  {
    name: "dp3t-exp05",
    folder: "dp3t-epfl/exp05-epfl-soldiers",
    source: "DP-3T/bt-measurements exp05, EPFL and ETH Zurich (CC BY-ND 4.0)",
    description:
      "20 people with Samsung phones in lunch, train, office, queue and party scenarios, camera ground truth",
    role: "estimators",
    load: (folder) => loadDp3tExp05(folder, { scenarios: EXP05_WITH_DISTANCES }),
  },
  {
    name: "body-position",
    folder: "body-position",
    source: "pc-ng/rss_smartphone (MIT)",
    description: "two people, hand/pocket/backpack combinations, 0.2-5 m",
    role: "estimators",
    load: loadBodyPosition,
  },
  {
    name: "mit-matrix",
    folder: "mit-matrix",
    source: "MIT Lincoln Laboratory, MIT-Matrix-Data (CC BY 4.0)",
    description: "iPhones in 13 carry pairs, 3-15 ft, several rooms",
    role: "estimators",
    load: loadMitMatrix,
  },
  {
    name: "pi-multichannel",
    folder: "pi-multichannel",
    source: "elanfer/multi-channel-paper-data (CC BY-SA 4.0)",
    description:
      "a Raspberry Pi 4 receiving an iPhone, a OnePlus and a Pi; office, bus, train, parking lot, 0.5-6 m",
    role: "estimators",
    load: loadPiMultichannel,
  },
  {
    name: "dp3t-anechoic",
    folder: "dp3t-epfl",
    source: "DP-3T/bt-measurements exp25, exp27, exp28, exp29, EPFL and ETH Zurich (CC BY-ND 4.0)",
    description: "iPhone, Pixel and Samsung pairs at 1 m in an anechoic chamber",
    role: "offsets",
    load: loadDp3tAnechoic,
  },
];

/** The campaign called `name`; an unknown name fails with the valid ones. */
export function campaignInfo(name: string): CampaignInfo {
  const info = CAMPAIGNS.find((c) => c.name === name);
  if (!info)
    throw new ConfigError(
      `unknown campaign "${name}": use one of ${CAMPAIGNS.map((c) => c.name).join(", ")}`,
      "E_DATASET",
    );
  return info;
}

/** The campaign's folder under `dataRoot`, checked to exist. */
export function campaignFolder(info: CampaignInfo, dataRoot: string): string {
  const folder = join(dataRoot, info.folder);
  if (!existsSync(folder) || !statSync(folder).isDirectory())
    throw new ConfigError(
      `the ${info.name} data folder ${folder} does not exist (the data root ${dataRoot} should hold ${info.folder}/)`,
      "E_INPUT",
    );
  return folder;
}
