/**
 * Which agent sent a rolling ID: the ground truth's view (every agent's own day keys expanded to
 * their IDs). The receivers never use this; the evaluation does, to tell which pairs were heard.
 */
import { toHex } from "../../src/core/hex.js";
import { schemeFor } from "../../src/protocols/schemes.js";
import type { TruthAgent } from "./run-data.js";

/** A lookup from an ID (hex) to the agent that advertised it. */
export function senderOfId(agents: readonly TruthAgent[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of agents) {
    const scheme = schemeFor(a.protocol);
    for (const key of a.keys)
      for (const id of scheme.idsForDay(key)) out.set(toHex(id.id), a.agent);
  }
  return out;
}
