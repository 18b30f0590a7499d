/** Plane geometry of a scene: axis-aligned rectangles and points, metres. */
import type { Random } from "../../src/core/random.js";

/** An axis-aligned rectangle: lower-left corner and size, metres. */
export interface Rect {
  readonly xM: number;
  readonly yM: number;
  readonly widthM: number;
  readonly heightM: number;
}

export interface Point {
  readonly xM: number;
  readonly yM: number;
}

export function rectContains(rect: Rect, xM: number, yM: number, slackM = 0): boolean {
  return (
    xM >= rect.xM - slackM &&
    xM <= rect.xM + rect.widthM + slackM &&
    yM >= rect.yM - slackM &&
    yM <= rect.yM + rect.heightM + slackM
  );
}

export function clampX(rect: Rect, xM: number): number {
  return xM < rect.xM ? rect.xM : Math.min(xM, rect.xM + rect.widthM);
}

export function clampY(rect: Rect, yM: number): number {
  return yM < rect.yM ? rect.yM : Math.min(yM, rect.yM + rect.heightM);
}

/** A uniformly random x inside `rect` (draws once). */
export function randomX(rect: Rect, random: Random): number {
  return rect.xM + random.float() * rect.widthM;
}

/** A uniformly random y inside `rect` (draws once). */
export function randomY(rect: Rect, random: Random): number {
  return rect.yM + random.float() * rect.heightM;
}

/** `rect` scaled by `factor` about the origin (for scenarios that grow with the crowd). */
export function scaleRect(rect: Rect, factor: number): Rect {
  return {
    xM: rect.xM * factor,
    yM: rect.yM * factor,
    widthM: rect.widthM * factor,
    heightM: rect.heightM * factor,
  };
}
