/** One step of straight-line walking, shared by the mobility models. */
import type { Agents } from "../agents.js";

/**
 * Moves agent `i` toward (xM, yM) at `speedMps` for `dtS` seconds, sets its velocity, and returns
 * whether it has arrived (it then stands exactly on the target).
 */
export function moveToward(
  agents: Agents,
  i: number,
  xM: number,
  yM: number,
  speedMps: number,
  dtS: number,
): boolean {
  const dx = xM - agents.xM[i];
  const dy = yM - agents.yM[i];
  const d = Math.sqrt(dx * dx + dy * dy);
  const stride = speedMps * dtS;
  if (d <= stride || d < 1e-9) {
    agents.vxMps[i] = dtS > 0 ? dx / dtS : 0;
    agents.vyMps[i] = dtS > 0 ? dy / dtS : 0;
    agents.xM[i] = xM;
    agents.yM[i] = yM;
    return true;
  }
  const f = stride / d;
  agents.xM[i] += dx * f;
  agents.yM[i] += dy * f;
  agents.vxMps[i] = (dx / d) * speedMps;
  agents.vyMps[i] = (dy / d) * speedMps;
  return false;
}

/** Sets agent `i`'s velocity to zero (standing still this step). */
export function standStill(agents: Agents, i: number): void {
  agents.vxMps[i] = 0;
  agents.vyMps[i] = 0;
}
