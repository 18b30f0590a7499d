/**
 * Channel model v2: the RSSI one phone reports for one advertisement of another, as a pure
 * function of the link (distance, environment class, carry position of each end, device terms)
 * and a random source. Parameters are a `ChannelProfile` (JSON beside this file, in
 * `channel-profiles/`): `v2.json` fitted across the campaigns in `../shared/data` by
 * `scripts/fit-channel.ts`, `herald-only.json` the simulator's current channel
 * (`DEFAULT_PROPAGATION` of `propagation.ts`, fitted to the Herald rig alone).
 *
 *   rssiDbm = deviceDb(tx, rx) + environmentOffsetDb[env]
 *             - pathLoss(d) - carryLoss(tx) - carryLoss(rx)
 *             + S(t) + F
 *
 * - pathLoss: log-distance, two slopes (one when `breakpointM` is Infinity), below
 *   `minDistanceM` the distance is taken as `minDistanceM`.
 * - carryLoss: one loss per carry position, the same at either end; `unknown` is the equal
 *   mixture of `unknownCarryMix`, represented by its mean loss and, added in quadrature to the
 *   shadowing, the spread of the mixture's losses (a Gaussian stand-in for the mixture).
 * - deviceDb: given by the caller in the link (`txDeviceDb + rxDeviceDb`); the profile's
 *   `devices` field says which table it was fitted with (see `channel-validation.ts`).
 * - S(t): shadowing, a Gauss-Markov (AR(1)) process per link with σ `shadowingSigmaDb`,
 *   correlation exp(-Δt/τ - |Δd|/dc) between two updates Δt seconds and |Δd| metres apart.
 * - F: fast fading, independent per advertisement: Gaussian in dB with σ `fading.sigmaDb`, or
 *   Rician power (mean 1) with K factor `fading.kDb`.
 * Then cut at the sensitivity (not received), rounded to whole dBm and saturated.
 */

import type { CarryPosition, Environment } from "../../src/campaigns/campaign-record.js";
import type { Random } from "../../src/core/random.js";
import { ricianFadingTableDb } from "./propagation.js";
import { randomNormal } from "./random-normal.js";

/** A parameter value with where it comes from. */
export interface Sourced<T> {
  readonly value: T;
  /** Campaigns (or a reference, or "choice") the value was fitted on or taken from. */
  readonly source: string;
}

export type FadingModel =
  | { readonly kind: "gaussian"; readonly sigmaDb: number }
  | { readonly kind: "rician"; readonly kDb: number };

/** How the device term of a link is obtained (the caller computes it). */
export type DeviceScheme =
  /**
   * Google's EN calibration table plus the anechoic offsets (`src/signal/device-offsets.json`):
   * txDeviceDb = txPower(tx) + txOffset(tx), rxDeviceDb = -rssiCorrection(rx) + rxOffset(rx);
   * a model without its own offsets takes the mean of its maker's (`channel-data.ts`).
   */
  | "calibration-table+anechoic"
  /** Google's table alone: txDeviceDb = txPower(tx), rxDeviceDb = -rssiCorrection(rx). */
  | "calibration-table"
  /** The anechoic offsets relative to the mean Android phone (`sim/world/devices.ts`); 0 for others. */
  | "anechoic-relative"
  /** No device term. */
  | "none";

export interface ChannelProfile {
  readonly name: string;
  readonly description: string;
  readonly devices: Sourced<DeviceScheme>;
  /** Mean received power at 1 m for device term 0, before carry and environment terms, dBm. */
  readonly refPowerDbm: Sourced<number>;
  /**
   * Informational (not used by the model): each fitted campaign's level less `refPowerDbm`, dB;
   * their spread is the error to expect in the level of a campaign the fit has not seen.
   */
  readonly campaignOffsetDb?: Sourced<Record<string, number>>;
  readonly exponentNear: Sourced<number>;
  /** Where `exponentFar` takes over, m (`null` in JSON = no breakpoint). */
  readonly breakpointM: Sourced<number | null>;
  readonly exponentFar: Sourced<number>;
  readonly minDistanceM: Sourced<number>;
  /** Added to the mean by environment class, dB; a class not listed adds 0. */
  readonly environmentOffsetDb: Sourced<Partial<Record<Environment, number>>>;
  /** Loss by carry position at either end, dB; a position not listed falls back (see `carryLossDb`). */
  readonly carryLossDb: Sourced<Partial<Record<CarryPosition, number>>>;
  /** The positions an `unknown` carry is an equal mixture of. */
  readonly unknownCarryMix: Sourced<readonly CarryPosition[]>;
  readonly shadowingSigmaDb: Sourced<number>;
  readonly shadowingTauS: Sourced<number>;
  readonly shadowingDecorrelationM: Sourced<number>;
  readonly fading: Sourced<FadingModel>;
  readonly sensitivityDbm: Sourced<number>;
  readonly saturationDbm: Sourced<number>;
}

/** One link as the channel sees it. */
export interface ChannelLink {
  readonly distanceM: number;
  readonly environment: Environment;
  readonly txCarry: CarryPosition;
  readonly rxCarry: CarryPosition;
  /** The sender's device term, dB (see `DeviceScheme`), default 0. */
  readonly txDeviceDb?: number;
  /** The receiver's device term, dB, default 0. */
  readonly rxDeviceDb?: number;
  /**
   * Advertising channel (37, 38, 39). No effect: no campaign labels the channel, so v2 has no
   * per-channel offset (docs/channel.md).
   */
  readonly channel?: number;
}

/** Fallbacks for carry positions a profile does not list. */
const CARRY_FALLBACK: Partial<Record<CarryPosition, CarryPosition>> = {
  "shirt-pocket": "pocket",
  "front-pocket": "pocket",
  "back-pocket": "pocket",
  pocket: "front-pocket",
  table: "hand",
  mount: "hand",
};

/** The loss of `carry` (not `unknown`), dB: its own, else its fallback's, else 0. */
export function carryLossDb(profile: ChannelProfile, carry: CarryPosition): number {
  const losses = profile.carryLossDb.value;
  let c: CarryPosition | undefined = carry;
  for (let i = 0; i < 3 && c !== undefined; i++) {
    const v = losses[c];
    if (v !== undefined) return v;
    c = CARRY_FALLBACK[c];
  }
  return 0;
}

/** Mean and spread of the loss at one end, dB (spread > 0 only for `unknown`). */
export function carryTerm(
  profile: ChannelProfile,
  carry: CarryPosition,
): { meanDb: number; sdDb: number } {
  if (carry !== "unknown") return { meanDb: carryLossDb(profile, carry), sdDb: 0 };
  const mix = profile.unknownCarryMix.value;
  if (mix.length === 0) return { meanDb: 0, sdDb: 0 };
  const losses = mix.map((c) => carryLossDb(profile, c));
  const mean = losses.reduce((a, b) => a + b, 0) / losses.length;
  const variance = losses.reduce((a, b) => a + (b - mean) ** 2, 0) / losses.length;
  return { meanDb: mean, sdDb: Math.sqrt(variance) };
}

/** Mean path loss relative to 1 m, dB. */
export function pathLossDb(profile: ChannelProfile, distanceM: number): number {
  const d = Math.max(distanceM, profile.minDistanceM.value);
  const bp = profile.breakpointM.value ?? Number.POSITIVE_INFINITY;
  const nNear = profile.exponentNear.value;
  if (d <= bp) return 10 * nNear * Math.log10(d);
  return 10 * nNear * Math.log10(bp) + 10 * profile.exponentFar.value * Math.log10(d / bp);
}

/** The mean RSSI of a link before shadowing and fading (no cut, no rounding), dBm. */
export function linkMeanDbm(profile: ChannelProfile, link: ChannelLink): number {
  return (
    profile.refPowerDbm.value +
    (link.txDeviceDb ?? 0) +
    (link.rxDeviceDb ?? 0) +
    (profile.environmentOffsetDb.value[link.environment] ?? 0) -
    pathLossDb(profile, link.distanceM) -
    carryTerm(profile, link.txCarry).meanDb -
    carryTerm(profile, link.rxCarry).meanDb
  );
}

/** The standard deviation of the slow term of a link (shadowing and unknown carry), dB. */
export function linkShadowingSdDb(profile: ChannelProfile, link: ChannelLink): number {
  const tx = carryTerm(profile, link.txCarry).sdDb;
  const rx = carryTerm(profile, link.rxCarry).sdDb;
  return Math.sqrt(profile.shadowingSigmaDb.value ** 2 + tx * tx + rx * rx);
}

/** Mean and standard deviation of the fast fading in dB. */
export function fadingMoments(fading: FadingModel): { meanDb: number; sdDb: number } {
  if (fading.kind === "gaussian") return { meanDb: 0, sdDb: fading.sigmaDb };
  const table = ricianFadingTableDb(fading.kDb);
  let s = 0;
  let s2 = 0;
  for (const v of table) {
    s += v;
    s2 += v * v;
  }
  const mean = s / table.length;
  return { meanDb: mean, sdDb: Math.sqrt(Math.max(0, s2 / table.length - mean * mean)) };
}

/**
 * The distribution of a link's RSSI before the cut and rounding, as mean and standard deviation
 * (dB): the mean plus the fading mean; the shadowing, unknown-carry and fading spreads in
 * quadrature. Exact for Gaussian fading, moments only for Rician.
 */
export function linkDistribution(
  profile: ChannelProfile,
  link: ChannelLink,
): { meanDbm: number; sdDb: number; shadowingSdDb: number; fadingSdDb: number } {
  const fading = fadingMoments(profile.fading.value);
  const shadowingSdDb = linkShadowingSdDb(profile, link);
  return {
    meanDbm: linkMeanDbm(profile, link) + fading.meanDb,
    sdDb: Math.sqrt(shadowingSdDb ** 2 + fading.sdDb ** 2),
    shadowingSdDb,
    fadingSdDb: fading.sdDb,
  };
}

/** One draw of the fast fading, dB. */
export function sampleFadingDb(fading: FadingModel, random: Random): number {
  if (fading.kind === "gaussian") return fading.sigmaDb * randomNormal(random);
  const table = ricianFadingTableDb(fading.kDb);
  return table[(random.float() * table.length) | 0];
}

/**
 * Shadowing of one link over time: AR(1) with correlation exp(-Δt/τ - |Δd|/dc) between
 * updates, stationary N(0, σ²) (σ from `linkShadowingSdDb`: the unknown-carry spread is a slow
 * term too).
 */
export class ShadowingProcess {
  private valueDb = 0;
  private lastS = Number.NaN;
  private lastDistanceM = 0;

  constructor(
    private readonly sigmaDb: number,
    private readonly tauS: number,
    private readonly decorrelationM: number,
  ) {}

  static forLink(profile: ChannelProfile, link: ChannelLink): ShadowingProcess {
    return new ShadowingProcess(
      linkShadowingSdDb(profile, link),
      profile.shadowingTauS.value,
      profile.shadowingDecorrelationM.value,
    );
  }

  /** The shadowing at time `atS` with the link at `distanceM`, dB (added to the RSSI). */
  at(atS: number, distanceM: number, random: Random): number {
    if (Number.isNaN(this.lastS)) {
      this.valueDb = this.sigmaDb * randomNormal(random);
    } else {
      const rho = Math.exp(
        -Math.abs(atS - this.lastS) / this.tauS -
          Math.abs(distanceM - this.lastDistanceM) / this.decorrelationM,
      );
      this.valueDb =
        rho * this.valueDb + this.sigmaDb * Math.sqrt(1 - rho * rho) * randomNormal(random);
    }
    this.lastS = atS;
    this.lastDistanceM = distanceM;
    return this.valueDb;
  }
}

/** Cut, round and saturate a received power as a phone reports it: `undefined` = not received. */
export function reportRssi(profile: ChannelProfile, dbm: number): number | undefined {
  if (dbm < profile.sensitivityDbm.value) return undefined;
  return Math.min(Math.round(dbm), profile.saturationDbm.value);
}

/**
 * One advertisement's RSSI, dBm, or `undefined` when not received. `shadowingDb` is the link's
 * current shadowing (from a `ShadowingProcess`); without it a fresh draw is used (a link seen once).
 */
export function sampleRssi(
  profile: ChannelProfile,
  link: ChannelLink,
  random: Random,
  shadowingDb?: number,
): number | undefined {
  const shadow = shadowingDb ?? linkShadowingSdDb(profile, link) * randomNormal(random);
  return reportRssi(
    profile,
    linkMeanDbm(profile, link) + shadow + sampleFadingDb(profile.fading.value, random),
  );
}
