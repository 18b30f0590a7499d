/**
 * A sweep's grid: every parameter as a list of values, every combination one run. The runs come
 * in one canonical order (the axes nested as `SWEEP_AXES` lists them, seed innermost), and each
 * run's id is a short hash of the canonical JSON of its parameters and `SWEEP_SCHEMA_VERSION`:
 * the same parameters give the same id on every machine and in every later sweep, which is what
 * resuming, the queue's job ids and the run folders `OUT/runs/<id>/` rest on.
 *
 * Scenarios and channel profiles are built-in names only: a run is then fully described by its
 * parameters, wherever it runs.
 */
import { createHash } from "node:crypto";
import { ConfigError } from "../../src/core/errors.js";
import { PRESET_NAMES } from "../../src/exposure/risk-preset.js";
import { readInputFile } from "../../src/io/read-input-file.js";
import { MAX_AGENTS } from "../world/agents.js";
import { CHANNEL_PROFILES } from "../world/channel-profiles.js";
import { BUILT_IN_SCENARIOS, PROTOCOL_NAMES } from "../world/scenario.js";

/**
 * Bumped whenever a run's outputs change meaning (its rows, its folder): runs of another version
 * get other ids, so a resumed sweep never mixes them.
 */
export const SWEEP_SCHEMA_VERSION = 1;

/** The scenario's own protocol mix (the run's `protocol` is then "mixed", as in its summary). */
export const MIXED_PROTOCOL = "mixed";

/** Runs in one grid at most: their list, and the queue's jobs, stay a few hundred MB. */
export const MAX_RUNS = 1_000_000;

/** A run's parameters; `null` is the scenario's own value (or the simulator's default). */
export interface RunParams {
  readonly scenario: string;
  readonly protocol: string;
  readonly agents: number | null;
  readonly durationS: number | null;
  readonly channel: string | null;
  readonly indexShare: number | null;
  readonly closeDistanceM: number | null;
  readonly closeMinutes: number | null;
  /** The detectors, by preset name, in the order they are scored. */
  readonly presets: readonly string[];
  /** The set's name as the grid gave it ("all", "proxkit", "proxkit+cwa-v2"). */
  readonly presetSet: string;
  /** The ceiling pass: true always, false never, null up to the default agent limit. */
  readonly ceiling: boolean | null;
  readonly seed: number;
}

/** One run of a sweep: its place in the canonical order, its id and its parameters. */
export interface SweepEntry {
  readonly index: number;
  readonly id: string;
  readonly params: RunParams;
}

export interface SweepGrid {
  readonly entries: readonly SweepEntry[];
  /** The parameters with more than one value (seed included), in axis order. */
  readonly swept: readonly string[];
}

interface Axis {
  /** The grid file's key. */
  readonly key: string;
  /** Other keys accepted for it (only one of them may be given). */
  readonly aliases?: readonly string[];
  /** The values (as `check` returns them) when the key is absent; undefined: the key is needed. */
  readonly absent: readonly unknown[] | undefined;
  /** The value, checked: an error sentence (without the key) when it is wrong. */
  check(value: unknown): { value: unknown } | { error: string };
}

const isInteger = (v: unknown, min: number, max: number): v is number =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
const isNumber = (v: unknown, min: number, max: number): v is number =>
  typeof v === "number" && Number.isFinite(v) && v >= min && v <= max;
const show = (v: unknown) => JSON.stringify(v) ?? String(v);

function numberAxis(key: string, min: number, max: number, integer: boolean, what: string): Axis {
  return {
    key,
    absent: [null],
    check: (v) =>
      (integer ? isInteger(v, min, max) : isNumber(v, min, max))
        ? { value: v }
        : { error: `must be ${what} ${min}..${max}, got ${show(v)}` },
  };
}

function presetSet(v: unknown): { value: unknown } | { error: string } {
  const known = (name: unknown) => typeof name === "string" && PRESET_NAMES.includes(name as never);
  if (v === "all") return { value: { label: "all", presets: [...PRESET_NAMES] } };
  if (typeof v === "string")
    return known(v)
      ? { value: { label: v, presets: [v] } }
      : { error: `unknown preset ${show(v)}; presets: all, ${PRESET_NAMES.join(", ")}` };
  if (Array.isArray(v) && v.length > 0) {
    const unknown = v.filter((name) => !known(name));
    if (unknown.length > 0)
      return {
        error: `unknown preset${unknown.length > 1 ? "s" : ""} ${unknown.map(show).join(", ")}; presets: ${PRESET_NAMES.join(", ")}`,
      };
    if (new Set(v).size !== v.length) return { error: `names a preset twice: ${show(v)}` };
    return { value: { label: v.join("+"), presets: v } };
  }
  return {
    error: `must be "all", a preset name or a list of preset names, got ${show(v)}`,
  };
}

/** The axes in canonical order: the runs nest them so, seed innermost. */
const AXES: readonly Axis[] = [
  {
    key: "scenario",
    absent: undefined,
    check: (v) =>
      typeof v === "string" && BUILT_IN_SCENARIOS.includes(v)
        ? { value: v }
        : {
            error: `must be a built-in scenario (${BUILT_IN_SCENARIOS.join(", ")}), got ${show(v)}`,
          },
  },
  {
    key: "protocol",
    absent: [MIXED_PROTOCOL],
    check: (v) =>
      typeof v === "string" && [MIXED_PROTOCOL, ...PROTOCOL_NAMES].includes(v)
        ? { value: v }
        : {
            error: `must be one of ${[MIXED_PROTOCOL, ...PROTOCOL_NAMES].join(", ")}, got ${show(v)}`,
          },
  },
  numberAxis("agents", 1, MAX_AGENTS, true, "an integer"),
  numberAxis("durationS", 1, 7 * 86_400, false, "seconds,"),
  {
    key: "channel",
    absent: [null],
    check: (v) =>
      typeof v === "string" && Object.hasOwn(CHANNEL_PROFILES, v)
        ? { value: v }
        : {
            error: `must be a built-in channel profile (${Object.keys(CHANNEL_PROFILES).join(", ")}), got ${show(v)}`,
          },
  },
  numberAxis("indexShare", 0, 1, false, "a share"),
  numberAxis("closeDistanceM", 0.1, 5, false, "metres,"),
  numberAxis("closeMinutes", 0.1, 10_080, false, "minutes,"),
  {
    key: "presets",
    absent: [{ label: "all", presets: [...PRESET_NAMES] }],
    check: presetSet,
  },
  {
    key: "ceiling",
    absent: [null],
    check: (v) =>
      typeof v === "boolean" ? { value: v } : { error: `must be true or false, got ${show(v)}` },
  },
  {
    key: "seed",
    aliases: ["seeds"],
    absent: undefined,
    check: (v) =>
      isInteger(v, 0, 2 ** 31 - 1)
        ? { value: v }
        : {
            error: `must be an integer 0..${2 ** 31 - 1}, a list of them or a range like "1-20", got ${show(v)}`,
          },
  },
];

/** The parameter names a grid file may use. */
export const SWEEP_AXES: readonly string[] = AXES.flatMap((a) => [a.key, ...(a.aliases ?? [])]);

/** Seeds as a range "1-20" or {"from": 1, "to": 20}: the list, or undefined if it is neither. */
function seedRange(v: unknown): unknown[] | undefined {
  let from: unknown;
  let to: unknown;
  const text = typeof v === "string" ? /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(v) : null;
  if (text) [from, to] = [Number(text[1]), Number(text[2])];
  else if (typeof v === "object" && v !== null && !Array.isArray(v) && "from" in v && "to" in v)
    ({ from, to } = v as { from: unknown; to: unknown });
  else return undefined;
  if (!isInteger(from, 0, 2 ** 31 - 1) || !isInteger(to, 0, 2 ** 31 - 1) || to < from) return [v];
  if (to - from >= 100_000) return [v];
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Keys sorted at every level: the one JSON text of a value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null)
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value);
}

/**
 * The run's id: 16 hex digits of the SHA-256 of its canonical parameters and the schema version.
 * Never all digits and never a colon, so it is also a valid BullMQ job id.
 */
export function runId(params: RunParams): string {
  const { presetSet: _label, ...identity } = params;
  const hash = createHash("sha256")
    .update(canonicalJson({ ...identity, schema: SWEEP_SCHEMA_VERSION }))
    .digest("hex");
  return `r${hash.slice(0, 15)}`;
}

/**
 * Checks a parsed grid document and expands it. Every mistake is reported, one line each, in a
 * single `ConfigError` naming `where` (the file).
 */
export function expandGrid(doc: unknown, where = "grid"): SweepGrid {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new ConfigError(
      `${where}: must be a JSON object with a list of values per parameter (${SWEEP_AXES.join(", ")})`,
      "E_GRID",
    );
  const record = doc as Record<string, unknown>;
  const mistakes: string[] = [];
  for (const key of Object.keys(record))
    if (!SWEEP_AXES.includes(key) && key !== "$comment")
      mistakes.push(`unknown parameter "${key}"; parameters: ${SWEEP_AXES.join(", ")}`);
  const values: unknown[][] = [];
  const swept: string[] = [];
  for (const axis of AXES) {
    const given = [axis.key, ...(axis.aliases ?? [])].filter((k) => Object.hasOwn(record, k));
    if (given.length > 1) {
      mistakes.push(`give one of ${given.map((k) => `"${k}"`).join(" and ")}, not both`);
      values.push([]);
      continue;
    }
    const key = given[0];
    let list: unknown[];
    if (key === undefined) {
      if (axis.absent === undefined) {
        mistakes.push(`"${axis.key}" is missing`);
        values.push([]);
        continue;
      }
      list = [...axis.absent];
    } else {
      const raw = record[key];
      const range = axis.key === "seed" ? seedRange(raw) : undefined;
      // A list is the values; anything else one value (presets: a list of sets, so a flat list
      // of names is one-preset sets, and a set given as a list is written inside the list).
      list = range ?? (Array.isArray(raw) ? raw : [raw]);
      if (list.length === 0) mistakes.push(`"${key}" has no values`);
      const checked: unknown[] = [];
      list.forEach((v, i) => {
        const result = axis.check(v);
        const at = Array.isArray(raw) ? `"${key}"[${i}]` : `"${key}"`;
        if ("error" in result) mistakes.push(`${at} ${result.error}`);
        else checked.push(result.value);
      });
      const seen = new Set<string>();
      for (const v of checked) {
        const text = canonicalJson(v);
        if (seen.has(text)) mistakes.push(`"${key}" lists ${text} twice`);
        seen.add(text);
      }
      list = checked;
    }
    if (list.length > 1) swept.push(axis.key);
    values.push(list);
  }
  if (mistakes.length > 0)
    throw new ConfigError(
      mistakes.length === 1
        ? `${where}: ${mistakes[0]}`
        : `${where}: ${mistakes.length} mistakes:\n  ${mistakes.join("\n  ")}`,
      "E_GRID",
    );
  const count = values.reduce((n, list) => n * list.length, 1);
  if (count > MAX_RUNS)
    throw new ConfigError(
      `${where}: ${count} runs; a sweep takes at most ${MAX_RUNS} (split it into several grids)`,
      "E_GRID",
    );
  const entries: SweepEntry[] = [];
  const at = new Array<unknown>(AXES.length);
  const nest = (axis: number) => {
    if (axis === AXES.length) {
      const [scenario, protocol, agents, durationS, channel, indexShare, closeDistanceM] = at;
      const [closeMinutes, set, ceiling, seed] = at.slice(7);
      const { label, presets } = set as { label: string; presets: string[] };
      const params: RunParams = {
        scenario: scenario as string,
        protocol: protocol as string,
        agents: agents as number | null,
        durationS: durationS as number | null,
        channel: channel as string | null,
        indexShare: indexShare as number | null,
        closeDistanceM: closeDistanceM as number | null,
        closeMinutes: closeMinutes as number | null,
        presets,
        presetSet: label,
        ceiling: ceiling as boolean | null,
        seed: seed as number,
      };
      entries.push({ index: entries.length, id: runId(params), params });
      return;
    }
    for (const v of values[axis]) {
      at[axis] = v;
      nest(axis + 1);
    }
  };
  nest(0);
  return { entries, swept };
}

/** Reads and expands a grid file (size-checked like every input file). */
export function readGrid(path: string): SweepGrid {
  const text = readInputFile(path, {
    what: "grid file",
    code: "E_GRID",
  });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path}: not JSON (${(error as Error).message})`, "E_GRID");
  }
  return expandGrid(doc, path);
}

/** The entries of shard `shard` of `count`: those whose index ≡ shard (mod count). */
export function shardEntries(
  entries: readonly SweepEntry[],
  shard: number,
  count: number,
): SweepEntry[] {
  return entries.filter((e) => e.index % count === shard);
}

/** The run in a few words, for messages: "#3, classroom, mixed, 20 agents, seed 2". */
export function describeEntry(entry: SweepEntry): string {
  const p = entry.params;
  return [
    `#${entry.index}`,
    p.scenario,
    p.protocol,
    p.agents === null ? undefined : `${p.agents} agents`,
    p.durationS === null ? undefined : `${p.durationS} s`,
    p.channel ?? undefined,
    p.presetSet === "all" ? undefined : `presets ${p.presetSet}`,
    `seed ${p.seed}`,
  ]
    .filter((x) => x !== undefined)
    .join(", ");
}
