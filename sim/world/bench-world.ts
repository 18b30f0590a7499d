/**
 * Micro-benchmark of the physical world: a plaza of N agents stepped once per virtual second,
 * and the RSSI of every ordered pair within reception range evaluated once per second (what a
 * link layer that scans continuously would ask for, before advertising-interval multiplicity).
 */
import { builtInScenario } from "./scenario.js";
import { buildWorld } from "./world.js";

export interface WorldBenchResult {
  readonly agents: number;
  readonly simSeconds: number;
  /** Neighbour range used for RSSI, metres (`World.receptionRangeM` unless given). */
  readonly rangeM: number;
  readonly buildMs: number;
  /** Mobility, grid rebuild, propagation bookkeeping and ground truth, all steps. */
  readonly stepMs: number;
  /** Neighbour queries and RSSI evaluations, all seconds. */
  readonly rssiMs: number;
  readonly rssiCalls: number;
  readonly received: number;
  readonly nsPerRssi: number;
  readonly totalMs: number;
  /** Pairs in the propagation cache and ground truth at the end, and the world's bytes per agent. */
  readonly propagationPairs: number;
  readonly groundTruthPairs: number;
  readonly bytesPerAgent: number;
}

export function benchWorld(
  agents = 10_000,
  simSeconds = 60,
  options: { seed?: number; rangeM?: number } = {},
): WorldBenchResult {
  const t0 = performance.now();
  const world = buildWorld(builtInScenario("plaza"), { agents, seed: options.seed ?? 1 });
  const t1 = performance.now();
  const rangeM = options.rangeM ?? world.receptionRangeM;
  const { agents: a, radioGrid, propagation } = world;
  const neighbours = new Int32Array(a.capacity);
  let stepMs = 0;
  let rssiMs = 0;
  let calls = 0;
  let received = 0;
  for (let s = 0; s < simSeconds; s++) {
    const ts = performance.now();
    world.step(1000);
    const tr = performance.now();
    stepMs += tr - ts;
    for (let rx = 0; rx < a.count; rx++) {
      if (a.present[rx] === 0) continue;
      const n = radioGrid.neighboursOf(rx, rangeM, neighbours);
      for (let k = 0; k < n; k++) {
        calls++;
        if (propagation.rssiDbm(neighbours[k], rx, 37 + (k % 3)) !== undefined) received++;
      }
    }
    rssiMs += performance.now() - tr;
  }
  const totalMs = performance.now() - t0;
  return {
    agents,
    simSeconds,
    rangeM,
    buildMs: t1 - t0,
    stepMs,
    rssiMs,
    rssiCalls: calls,
    received,
    nsPerRssi: calls > 0 ? (rssiMs * 1e6) / calls : 0,
    totalMs,
    propagationPairs: propagation.pairCount,
    groundTruthPairs: world.groundTruth?.pairCount ?? 0,
    bytesPerAgent: world.bytes / a.count,
  };
}
