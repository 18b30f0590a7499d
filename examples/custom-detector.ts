/**
 * A custom detector scored on a simulated run.
 *
 * Simulates an hour in the built-in office (24 desk workers and visitors, phones running GAEN),
 * matches every phone's sightings against the keys everybody published, and decides each
 * (sender, receiver) pair with a rule of our own: "notify when the receiver heard the sender at
 * an attenuation of at most 50 dB for at least 10 minutes". The rule is scored against the
 * simulator's ground truth (15 minutes within 2 m) by precision, recall and F1, next to
 * proxkit's shipped detector on the same run.
 *
 * Run it from the repository: `npm run build && node dist/examples/custom-detector.js` (the build
 * compiles examples/ too; "proxkit" resolves to the package itself through its `exports`). In a
 * project where proxkit is installed, copy the file and compile or strip its types likewise.
 * Optional arguments: the attenuation threshold (dB) and the minutes, e.g. `… 55 15`.
 */
import {
  CONTINUOUS_SCAN_PERIOD_MS,
  type MatchedWindow,
  matchExposures,
  presetFor,
  toHex,
} from "proxkit";
import { builtInScenario, detectContacts, precisionRecallF1, simulateRun } from "proxkit/sim";

const maxAttenuationDb = Number(process.argv[2] ?? 50);
const minMinutes = Number(process.argv[3] ?? 10);

// 1. Simulate: each phone's stored sightings, the published keys, the ground truth.
const run = simulateRun(builtInScenario("office"), { seed: 7, durationS: 3600 });
const { closeDistanceM, closeMinutes } = run.meta;
console.log(
  `simulated ${run.meta.agents} phones for ${run.meta.durationS / 60} min: ${run.sightingCount} sightings`,
);

// The truth: unordered pairs within closeDistanceM for closeMinutes or more.
const pairId = (a: number, b: number) => `${Math.min(a, b)}-${Math.max(a, b)}`;
const close = new Set(
  run.truth.pairs.filter((p) => p.closeS >= closeMinutes * 60).map((p) => pairId(p.a, p.b)),
);
// Whose key is whose, to tell which sender a matched exposure window belongs to.
const ownerOfKey = new Map<string, number>();
for (const agent of run.truth.agents)
  for (const k of agent.keys) ownerOfKey.set(toHex(k.key), agent.agent);

// 2. The custom rule, on the exposure windows a phone's matching gives (one scan a minute).
function customRule(windows: readonly MatchedWindow[]): boolean {
  let seconds = 0;
  for (const w of windows)
    for (const scan of w.scanInstances)
      if (scan.typicalAttenuationDb <= maxAttenuationDb) seconds += scan.secondsSinceLastScan;
  return seconds >= minMinutes * 60;
}

const customNotified = new Set<string>();
const preset = presetFor("proxkit"); // matching needs a preset; the rule ignores its decision
run.sightings.forEach((heard, receiver) => {
  const result = matchExposures(run.published, heard, {
    preset,
    rxRssiCorrectionDb: run.meta.rxRssiCorrectionDb ?? 0,
    maxScanInstanceMs: CONTINUOUS_SCAN_PERIOD_MS,
  });
  const bySender = new Map<number, MatchedWindow[]>();
  for (const w of result.windows) {
    const sender = ownerOfKey.get(w.key);
    if (sender === undefined || sender === receiver) continue;
    bySender.set(sender, [...(bySender.get(sender) ?? []), w]);
  }
  for (const [sender, windows] of bySender)
    if (customRule(windows)) customNotified.add(pairId(sender, receiver));
});

// 3. The shipped detector on the same run, for comparison.
const shippedNotified = new Set(
  detectContacts(run, { presets: [preset] })
    .filter((d) => d.notified)
    .map((d) => pairId(d.index, d.receiver)),
);

// 4. Score each against the truth (a pair counts once, whichever phone notified).
function score(name: string, notified: Set<string>) {
  const tp = [...notified].filter((p) => close.has(p)).length;
  const fp = notified.size - tp;
  const fn = close.size - tp;
  const { precision, recall, f1 } = precisionRecallF1(tp, fp, fn);
  console.log(
    `${name.padEnd(34)} precision ${precision.toFixed(2)}  recall ${recall.toFixed(2)}  F1 ${f1.toFixed(2)}  (tp ${tp}, fp ${fp}, fn ${fn})`,
  );
}
console.log(
  `close contacts in the truth: ${close.size} pairs (${closeMinutes} min within ${closeDistanceM} m)`,
);
score(`custom: <= ${maxAttenuationDb} dB for >= ${minMinutes} min`, customNotified);
score("shipped: proxkit detector", shippedNotified);
