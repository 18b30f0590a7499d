/**
 * Named channel profiles (`channel-v2.ts`): `v2`, fitted across the campaigns by
 * `scripts/fit-channel.ts` (`channel-profiles/v2.json`), and `herald-only`, the simulator's
 * current channel (`DEFAULT_PROPAGATION`, fitted to the Herald rig alone) in the same form
 * (`channel-profiles/herald-only.json`, written by the same script from `heraldOnlyProfile`).
 */
import { readInputFile } from "../../src/io/read-input-file.js";
import heraldOnly from "./channel-profiles/herald-only.json" with { type: "json" };
import v2 from "./channel-profiles/v2.json" with { type: "json" };
import type { ChannelProfile } from "./channel-v2.js";
import { DEFAULT_PROPAGATION, type PropagationParams } from "./propagation.js";

/** The current simulator channel as a profile. */
export function heraldOnlyProfile(p: PropagationParams = DEFAULT_PROPAGATION): ChannelProfile {
  const herald = "herald-edison via sim/world/fit-propagation.ts";
  const prop = "sim/world/propagation.ts";
  return {
    name: "herald-only",
    description:
      "the simulator's channel before v2: DEFAULT_PROPAGATION of sim/world/propagation.ts, fitted to the Herald rig alone (no bodies in between)",
    devices: { value: "anechoic-relative", source: "sim/world/devices.ts (dp3t-anechoic)" },
    refPowerDbm: { value: p.txPowerDbm - p.refPathLossDb, source: herald },
    exponentNear: { value: p.exponentNear, source: herald },
    breakpointM: { value: p.breakpointM, source: `${prop} (the rig stops at 3 m)` },
    exponentFar: { value: p.exponentFar, source: "ITU-R P.1238 office, via propagation.ts" },
    minDistanceM: { value: p.minDistanceM, source: prop },
    environmentOffsetDb: { value: {}, source: "none" },
    carryLossDb: {
      value: {
        mount: 0,
        table: 0,
        hand: p.carryLossDb[0],
        pocket: p.carryLossDb[1],
        bag: p.carryLossDb[2],
      },
      source: "Leith & Farrell 2020 mid-range choices, via propagation.ts; mount and table = hand",
    },
    unknownCarryMix: { value: ["hand"], source: "choice: the simulator's default carry" },
    shadowingSigmaDb: { value: p.shadowingSigmaDb, source: herald },
    shadowingTauS: { value: p.shadowingTauS, source: herald },
    shadowingDecorrelationM: { value: p.shadowingDecorrelationM, source: herald },
    fading: { value: { kind: "rician", kDb: p.ricianKDb }, source: herald },
    sensitivityDbm: { value: p.sensitivityDbm, source: herald },
    saturationDbm: { value: p.saturationDbm, source: prop },
  };
}

export const CHANNEL_PROFILES: Readonly<Record<string, ChannelProfile>> = {
  v2: v2 as unknown as ChannelProfile,
  "herald-only": heraldOnly as unknown as ChannelProfile,
};

/** A named profile, or a profile JSON file's. */
export function loadChannelProfile(nameOrFile: string): ChannelProfile {
  const named = CHANNEL_PROFILES[nameOrFile];
  if (named) return named;
  // Size-checked, regular files only: a device, a FIFO or a huge file is one typed error.
  const text = readInputFile(nameOrFile, {
    what: "channel profile",
    code: "E_CHANNEL",
    missing: "no such profile or file",
  });
  return JSON.parse(text) as ChannelProfile;
}
