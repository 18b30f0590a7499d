import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ColumnSpec, OutputFormat } from "../../../sim/io/table-writer.js";
import type { RunData } from "../../../sim/pipeline/run-data.js";
import {
  forEachSighting,
  openRunWriter,
  partialFolder,
  RUN_TABLE_COLUMNS,
  RUN_TABLES,
  readDetections,
  readRunFiles,
  writeRunFiles,
} from "../../../sim/pipeline/run-files.js";
import { rerunFolder, runPipeline, runSummary } from "../../../sim/pipeline/run-pipeline.js";
import { builtInScenario } from "../../../sim/world/scenario.js";
import { ConfigError } from "../../../src/core/errors.js";
import { sightingToJson } from "../../../src/signal/sighting.js";

const result = runPipeline(builtInScenario("classroom"), { seed: 1, agents: 30, durationS: 600 });
const summary = runSummary(result.data, result.evaluation, result.data.rssiVsDistance);

/**
 * The parts of a run the folder holds; sightings in their JSON form (a fixed key order), which
 * compares many times faster than objects holding byte arrays.
 */
function runData(data: RunData) {
  const { meta, sightings, indexCases, published, truth, ceiling } = data;
  return {
    meta,
    sightings: sightings.map((list) => list.map((s) => JSON.stringify(sightingToJson(s)))),
    indexCases,
    published,
    truth,
    ...(ceiling ? { ceiling } : {}),
  };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "proxkit-run-files-"));
}

function writeFolder(format: OutputFormat): string {
  const dir = join(tempDir(), "run");
  writeRunFiles(dir, result.data, result.detections, summary, format);
  return dir;
}

/**
 * A folder as `writeRunFiles` wrote it before the tables: sightings in the sighting form with
 * "receiver", truth pairs as "pair" lines of truth.jsonl, windows in every detection row.
 */
function writeOldFolder(): string {
  const dir = writeFolder("jsonl");
  for (const table of Object.values(RUN_TABLES)) rmSync(join(dir, `${table}.jsonl`));
  const lines = (rows: unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join("");
  writeFileSync(
    join(dir, "sightings.jsonl"),
    lines(
      result.data.sightings.flatMap((list, receiver) =>
        list.map((s) => ({ receiver, ...sightingToJson(s) })),
      ),
    ),
  );
  writeFileSync(join(dir, "detections.jsonl"), lines(result.detections));
  writeFileSync(
    join(dir, "truth.jsonl"),
    readFileSync(join(dir, "truth.jsonl"), "utf8") +
      lines(result.data.truth.pairs.map((p) => ({ type: "pair", ...p }))),
  );
  return dir;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

describe("run folder tables", () => {
  let parquet: string;
  let jsonl: string;
  beforeAll(() => {
    parquet = writeFolder("parquet");
    jsonl = writeFolder("jsonl");
  });

  it("writes one form per folder, beside the small JSON files, and no partial folder", () => {
    const names = (dir: string) => readdirSync(dir).sort();
    expect(names(parquet)).toEqual([
      "ceiling.jsonl",
      "detections.parquet",
      "keys.jsonl",
      "sightings.parquet",
      "summary.json",
      "truth.jsonl",
      "truth_intervals.parquet",
      "truth_pairs.parquet",
      "windows.parquet",
    ]);
    expect(names(jsonl)).toEqual(names(parquet).map((n) => n.replace(".parquet", ".jsonl")));
    expect(existsSync(partialFolder(parquet))).toBe(false);
    // truth.jsonl keeps its run and agent lines only.
    const types = readFileSync(join(parquet, "truth.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).type);
    expect(new Set(types)).toEqual(new Set(["run", "agent"]));
  });

  describe("DuckDB reads the same rows from both forms", () => {
    let con: Awaited<ReturnType<DuckDBInstance["connect"]>>;
    beforeAll(async () => {
      con = await (await DuckDBInstance.create(":memory:")).connect();
    });
    afterAll(() => con.closeSync());

    const SQL_TYPE: Record<ColumnSpec["type"], string> = {
      int32: "INTEGER",
      float64: "DOUBLE",
      boolean: "BOOLEAN",
      string: "VARCHAR",
      bytes: "VARCHAR",
      "timestamp-ms": "BIGINT",
    };
    const fromParquet = (path: string, columns: readonly ColumnSpec[]) =>
      `select ${columns
        .map((c) =>
          c.type === "bytes"
            ? `lower(hex("${c.name}"))`
            : c.type === "timestamp-ms"
              ? `epoch_ms("${c.name}")`
              : `"${c.name}"`,
        )
        .join(", ")} from read_parquet('${path}')`;
    const fromJsonl = (path: string, columns: readonly ColumnSpec[]) =>
      `select ${columns.map((c) => `"${c.name}"`).join(", ")} from read_json('${path}',
        format='newline_delimited',
        columns={${columns.map((c) => `"${c.name}": '${SQL_TYPE[c.type]}'`).join(", ")}})`;
    const count = async (sql: string) =>
      Number((await con.runAndReadAll(`select count(*) from (${sql})`)).getRows()[0][0]);

    const pairs = new Set(result.detections.map((d) => `${d.index}>${d.receiver}`));
    const expectedRows: Record<keyof typeof RUN_TABLES, number> = {
      sightings: result.data.sightingCount,
      detections: result.detections.length,
      windows: [...pairs].reduce((sum, pair) => {
        const d = result.detections.find((x) => `${x.index}>${x.receiver}` === pair)!;
        return sum + d.windows.length;
      }, 0),
      truthPairs: result.data.truth.pairs.length,
      truthIntervals: result.data.truth.pairs.reduce((s, p) => s + p.closeIntervals.length, 0),
    };

    for (const table of Object.keys(RUN_TABLES) as (keyof typeof RUN_TABLES)[]) {
      it(`${RUN_TABLES[table]}: equal row counts, nothing in one that is not in the other`, async () => {
        const columns = RUN_TABLE_COLUMNS[table];
        const p = fromParquet(join(parquet, `${RUN_TABLES[table]}.parquet`), columns);
        const j = fromJsonl(join(jsonl, `${RUN_TABLES[table]}.jsonl`), columns);
        expect(expectedRows[table]).toBeGreaterThan(0);
        expect(await count(p)).toBe(expectedRows[table]);
        expect(await count(j)).toBe(expectedRows[table]);
        expect(await count(`(${p}) except all (${j})`)).toBe(0);
        expect(await count(`(${j}) except all (${p})`)).toBe(0);
      });
    }

    it("a sighting's values are the simulator's", async () => {
      const first = result.data.sightings.findIndex((l) => l.length > 0);
      const s = result.data.sightings[first][0];
      const rows = (
        await con.runAndReadAll(
          `${fromParquet(join(parquet, "sightings.parquet"), RUN_TABLE_COLUMNS.sightings)} limit 1`,
        )
      ).getRowObjectsJS();
      expect(rows[0]).toMatchObject({
        protocol: s.protocol,
        rssi: s.rssiDbm,
        channel: s.channel ?? null,
      });
    });
  });

  it("reads back as the run held in memory, from either form", async () => {
    const expected = runData(result.data);
    const fromParquet = runData(await readRunFiles(parquet));
    const fromJsonl = runData(await readRunFiles(jsonl));
    expect(fromParquet).toEqual(expected);
    expect(fromJsonl).toEqual(fromParquet);
    // Every field of every sighting, bytes included, as an object too.
    const first = result.data.sightings.findIndex((l) => l.length > 0);
    expect((await readRunFiles(parquet)).sightings[first].slice(0, 50)).toEqual(
      result.data.sightings[first].slice(0, 50),
    );
    expect(await readDetections(parquet)).toEqual(result.detections);
    expect(await readDetections(jsonl)).toEqual(result.detections);
    let n = 0;
    expect(await forEachSighting(parquet, () => n++)).toBe(result.data.sightingCount);
    expect(n).toBe(result.data.sightingCount);
  });

  it("reads a folder written before the tables (all JSON lines, pairs in truth.jsonl)", async () => {
    const old = writeOldFolder();
    expect(runData(await readRunFiles(old))).toEqual(runData(result.data));
    expect(await readDetections(old)).toEqual(result.detections);
    const again = await rerunFolder(old);
    expect(again.evaluation).toEqual(result.evaluation);
  });

  it("evaluate --run gives the same evaluation from either form", async () => {
    expect((await rerunFolder(parquet)).evaluation).toEqual(result.evaluation);
    expect((await rerunFolder(jsonl)).evaluation).toEqual(result.evaluation);
  });
});

describe("writing a run as it goes", () => {
  it("works in <dir>.partial and lands in <dir> at finish; a stale partial folder is replaced", () => {
    const dir = join(tempDir(), "run");
    mkdirSync(partialFolder(dir));
    writeFileSync(join(partialFolder(dir), "left-over"), "killed run");
    const writer = openRunWriter(dir, "parquet");
    expect(existsSync(join(partialFolder(dir), "left-over"))).toBe(false);
    writer.sighting(1, result.data.sightings[1][0]);
    expect(existsSync(join(dir, "summary.json"))).toBe(false);
    expect(existsSync(join(partialFolder(dir), "sightings.parquet"))).toBe(true);
    writer.finish({
      meta: result.data.meta,
      indexCases: result.data.indexCases,
      agents: result.data.truth.agents,
      published: result.data.published,
      summary: { ok: true },
      extraFiles: { "report.html": "<p>report</p>" },
    });
    expect(existsSync(partialFolder(dir))).toBe(false);
    expect(readFileSync(join(dir, "report.html"), "utf8")).toBe("<p>report</p>");
    expect(JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"))).toEqual({ ok: true });
    expect(existsSync(join(dir, "ceiling.jsonl"))).toBe(false);
    expect(() => writer.sighting(1, result.data.sightings[1][0])).toThrow(/finished/);
  });

  it("abort removes the partial folder and leaves <dir> as it was", () => {
    const dir = writeFolder("jsonl");
    const before = readdirSync(dir).sort();
    const writer = openRunWriter(dir, "parquet");
    writer.sighting(1, result.data.sightings[1][0]);
    writer.abort();
    writer.abort();
    expect(existsSync(partialFolder(dir))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it("into a folder with files of its own: they stay, the older run's files of the other form go", async () => {
    const dir = writeFolder("jsonl");
    writeFileSync(join(dir, "notes.txt"), "mine");
    writeRunFiles(dir, { ...result.data, ceiling: undefined }, result.detections, summary);
    expect(readdirSync(dir).sort()).toEqual([
      "detections.parquet",
      "keys.jsonl",
      "notes.txt",
      "sightings.parquet",
      "summary.json",
      "truth.jsonl",
      "truth_intervals.parquet",
      "truth_pairs.parquet",
      "windows.parquet",
    ]);
    expect((await readRunFiles(dir)).ceiling).toBeUndefined();
  });

  it("refuses a --out that is a file, before any work", () => {
    const file = join(tempDir(), "a-file");
    writeFileSync(file, "");
    expect(() => openRunWriter(file, "parquet")).toThrow(/--out .*a-file: it is not a folder/);
  });
});

describe("bad run folders are one ConfigError naming the file", () => {
  it("a truncated Parquet table", async () => {
    const dir = writeFolder("parquet");
    const path = join(dir, "sightings.parquet");
    truncateSync(path, statSync(path).size - 100);
    const error = await rejection(readRunFiles(dir));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      `${path} is not a complete Parquet file (file invalid (footer != PAR1))`,
    );
  });

  it("a JSON-lines table with a line that is not JSON", async () => {
    const dir = writeFolder("jsonl");
    const path = join(dir, "truth_intervals.jsonl");
    writeFileSync(path, `${readFileSync(path, "utf8")}{"a": 1,\n`);
    const lines = readFileSync(path, "utf8").trim().split("\n").length;
    const error = await rejection(readRunFiles(dir));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`${path} line ${lines}: not a JSON object`);
  });

  it("a table missing from the folder", async () => {
    const dir = writeFolder("parquet");
    rmSync(join(dir, "sightings.parquet"));
    await expect(readRunFiles(dir)).rejects.toThrow(`${join(dir, "sightings.parquet")} is missing`);
  });

  it("a folder that is not a run, or a run not finished", async () => {
    const dir = tempDir();
    await expect(readRunFiles(dir)).rejects.toThrow(/truth.jsonl is missing: is this a proxkit/);
    const unfinished = join(dir, "run");
    openRunWriter(unfinished, "parquet");
    rmSync(unfinished, { recursive: true });
    await expect(readRunFiles(unfinished)).rejects.toThrow(
      /is not a folder \(.*run.partial is a run still being written/,
    );
  });
});
