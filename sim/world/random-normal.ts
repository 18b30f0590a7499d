/** Standard normal draws from an injected `Random`. */
import type { Random } from "../../src/core/random.js";

/** One N(0, 1) draw (Box-Muller, cosine branch: two uniforms per draw, no hidden state). */
export function randomNormal(random: Pick<Random, "float">): number {
  const u = 1 - random.float(); // (0, 1]: log stays finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.float());
}
