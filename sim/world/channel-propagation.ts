/**
 * A channel profile (`channel-v2.ts`) as the simulator's propagation parameters
 * (`propagation.ts`), for `simulate --channel NAME|FILE` and a scenario's `"channel"`.
 *
 * The built-in `herald-only` profile maps to no override at all: the simulator runs
 * `DEFAULT_PROPAGATION` exactly as before (same code path, same bytes). Any other profile maps:
 *
 * - refPowerDbm, the nominal device's terms and the environment offset → `refPathLossDb`
 *   (`txPowerDbm` stays 0, `refDistanceM` 1): refPathLossDb = -(refPowerDbm + nominal device
 *   terms + environmentOffsetDb[environment]).
 * - exponentNear, exponentFar, minDistanceM → the same fields; `breakpointM: null` (one slope)
 *   → `breakpointM: Infinity` (the two-slope code then never takes the far branch).
 * - shadowing σ, τ and decorrelation distance → the same fields (same AR(1) per pair).
 * - carry losses → `carryLossDb` [hand, pocket, bag] via `carryLossDb` of `channel-v2.ts`
 *   (the simulator knows only these three positions).
 * - fading: Gaussian → `fadingSigmaDb` (a quantile table used for still and moving links);
 *   Rician → `ricianKDb` for still links, moving links keep `movingRicianKDb` (a profile has
 *   one K).
 * - sensitivity, saturation → the same fields.
 * - device terms: the simulator's phones carry offsets relative to the mean Android
 *   (`devices.ts`); for a `calibration-table*` profile the nominal device (index 0) gets the
 *   calibration table's default device (`DEFAULT_DEVICE_CALIBRATION`: TX -24 dBm, RSSI
 *   correction -5 dB) folded into `refPathLossDb`; named models add their relative anechoic
 *   offsets on top (their own calibration-table row is not read: the simulator does not read
 *   `../shared/data`).
 * Not represented: the `unknown` carry mixture (the simulator has no unknown carry), per-channel
 * offsets (none in v2). Kept from the simulator, not in the profile: loss through people in
 * between (`bodyLossDb`), culling bounds.
 */
import {
  DEFAULT_DEVICE_CALIBRATION,
  type DeviceCalibration,
} from "../../src/signal/calibration-table.js";
import { ConfigError } from "../../src/core/errors.js";
import type { Environment } from "../../src/campaigns/campaign-record.js";
import { CHANNEL_PROFILES, loadChannelProfile } from "./channel-profiles.js";
import { type ChannelProfile, carryLossDb } from "./channel-v2.js";
import type { PropagationParams } from "./propagation.js";

/**
 * The channel of a scenario that names none: `v2`, fitted across five campaigns
 * (docs/channel.md). `herald-only` (`DEFAULT_PROPAGATION`, the Herald rig alone) stays by name.
 */
export const DEFAULT_CHANNEL = "v2";
/** The profile whose propagation is `DEFAULT_PROPAGATION` itself (no overrides). */
export const HERALD_ONLY_CHANNEL = "herald-only";

/** Whether `profile`'s device terms come from the calibration table (with or without offsets). */
export function usesCalibrationTable(profile: ChannelProfile): boolean {
  const scheme = profile.devices.value;
  return scheme === "calibration-table" || scheme === "calibration-table+anechoic";
}

/**
 * The calibration-table row of the simulator's nominal phone under `profile`: the table's
 * default row where the profile's device terms come from the table, else none.
 */
function nominalCalibration(profile: ChannelProfile): DeviceCalibration | undefined {
  return usesCalibrationTable(profile) ? DEFAULT_DEVICE_CALIBRATION : undefined;
}

/** The device terms (tx + rx) of the simulator's nominal device under `profile`, dB. */
export function nominalDeviceDb(profile: ChannelProfile): number {
  const row = nominalCalibration(profile);
  return row ? row.txPowerDbm - row.rssiCorrectionDb : 0;
}

/**
 * The RSSI correction a simulated phone applies to what it receives under `profile`, dB: its
 * nominal row's where the profile's device terms come from the calibration table (its levels
 * are RSSI as phones report it, before their correction), as a real phone applies its row's
 * when it computes attenuation; 0 otherwise.
 */
export function receiverCorrectionDb(profile: ChannelProfile): number {
  return nominalCalibration(profile)?.rssiCorrectionDb ?? 0;
}

/**
 * The propagation overrides of `profile` (on top of `DEFAULT_PROPAGATION`); `{}` for the
 * built-in `herald-only` profile.
 */
export function channelPropagation(
  profile: ChannelProfile,
  environment?: Environment,
): Partial<PropagationParams> {
  if (profile === CHANNEL_PROFILES[HERALD_ONLY_CHANNEL]) return {};
  const fading = profile.fading.value;
  const envDb =
    environment === undefined ? 0 : (profile.environmentOffsetDb.value[environment] ?? 0);
  return {
    txPowerDbm: 0,
    refDistanceM: 1,
    refPathLossDb: -(profile.refPowerDbm.value + nominalDeviceDb(profile) + envDb),
    exponentNear: profile.exponentNear.value,
    breakpointM: profile.breakpointM.value ?? Number.POSITIVE_INFINITY,
    exponentFar: profile.exponentFar.value,
    minDistanceM: profile.minDistanceM.value,
    shadowingSigmaDb: profile.shadowingSigmaDb.value,
    shadowingTauS: profile.shadowingTauS.value,
    shadowingDecorrelationM: profile.shadowingDecorrelationM.value,
    carryLossDb: [
      carryLossDb(profile, "hand"),
      carryLossDb(profile, "pocket"),
      carryLossDb(profile, "bag"),
    ],
    ...(fading.kind === "gaussian" ? { fadingSigmaDb: fading.sigmaDb } : { ricianKDb: fading.kDb }),
    sensitivityDbm: profile.sensitivityDbm.value,
    saturationDbm: profile.saturationDbm.value,
  };
}

const NUMERIC_FIELDS = [
  "refPowerDbm",
  "exponentNear",
  "exponentFar",
  "minDistanceM",
  "shadowingSigmaDb",
  "shadowingTauS",
  "shadowingDecorrelationM",
  "sensitivityDbm",
  "saturationDbm",
] as const;

/**
 * A channel profile by name (`herald-only`, `v2`) or profile JSON file, checked: a
 * `ConfigError` (E_CHANNEL) in one line for an unknown name, an unreadable file or a profile
 * missing a field.
 */
export function resolveChannelProfile(nameOrFile: string): ChannelProfile {
  const names = Object.keys(CHANNEL_PROFILES).join(", ");
  let profile: ChannelProfile;
  try {
    profile = loadChannelProfile(nameOrFile);
  } catch (cause) {
    const reason =
      (cause as NodeJS.ErrnoException).code === "ENOENT"
        ? "no such profile or file"
        : (cause as Error).message.split("\n")[0];
    throw new ConfigError(
      `channel "${nameOrFile}": ${reason} (names: ${names}, or a profile JSON file; see docs/channel.md)`,
      "E_CHANNEL",
    );
  }
  const bad = (what: string): never => {
    throw new ConfigError(`channel "${nameOrFile}": ${what} (see docs/channel.md)`, "E_CHANNEL");
  };
  if (typeof profile !== "object" || profile === null) bad("is not a profile object");
  for (const field of NUMERIC_FIELDS) {
    const v = (profile as unknown as Record<string, { value?: unknown } | undefined>)[field]?.value;
    if (typeof v !== "number" || !Number.isFinite(v)) bad(`${field}.value must be a number`);
  }
  const bp = profile.breakpointM?.value;
  if (bp !== null && (typeof bp !== "number" || !(bp > 0))) {
    bad("breakpointM.value must be a positive number or null");
  }
  const fading = profile.fading?.value;
  if (
    !fading ||
    !(
      (fading.kind === "gaussian" && typeof fading.sigmaDb === "number") ||
      (fading.kind === "rician" && typeof fading.kDb === "number")
    )
  ) {
    bad('fading.value must be {"kind":"gaussian","sigmaDb":N} or {"kind":"rician","kDb":N}');
  }
  if (typeof profile.carryLossDb?.value !== "object") bad("carryLossDb.value must be an object");
  if (typeof profile.devices?.value !== "string") bad("devices.value must be a string");
  if (typeof profile.environmentOffsetDb?.value !== "object") {
    bad("environmentOffsetDb.value must be an object");
  }
  if (typeof profile.name !== "string") bad("name must be a string");
  return profile;
}
