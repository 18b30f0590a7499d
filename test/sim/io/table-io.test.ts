import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { describe, expect, it } from "vitest";
import { findTable, readTable } from "../../../sim/io/table-reader.js";
import {
  type ColumnSpec,
  OUTPUT_FORMATS,
  openTable,
  ROW_GROUP_ROWS,
} from "../../../sim/io/table-writer.js";
import { ConfigError } from "../../../src/core/errors.js";

const COLUMNS: readonly ColumnSpec[] = [
  { name: "n", type: "int32" },
  { name: "x", type: "float64" },
  { name: "ok", type: "boolean" },
  { name: "label", type: "string" },
  { name: "at_ms", type: "timestamp-ms" },
  { name: "id", type: "bytes" },
  { name: "maybe_n", type: "int32", nullable: true },
  { name: "maybe_x", type: "float64", nullable: true },
  { name: "maybe_ok", type: "boolean", nullable: true },
  { name: "maybe_label", type: "string", nullable: true },
  { name: "maybe_at_ms", type: "timestamp-ms", nullable: true },
  { name: "maybe_id", type: "bytes", nullable: true },
];

const START_MS = Date.UTC(2021, 2, 1, 9);

function row(i: number): unknown[] {
  const id = new Uint8Array([i & 255, (i >> 8) & 255, 0xab, 0x00]);
  const odd = i % 2 === 1;
  return [
    i - 3,
    i / 7,
    i % 3 === 0,
    `r${i % 5}é`,
    START_MS + i * 250,
    id,
    odd ? null : -i - 1,
    odd ? null : i * 0.5,
    odd ? null : i % 4 === 0,
    odd ? null : "x",
    odd ? null : START_MS - i,
    odd ? null : id.subarray(0, 2),
  ];
}

function expected(i: number): Record<string, unknown> {
  const values = row(i);
  return Object.fromEntries(COLUMNS.map((c, j) => [c.name, values[j]]));
}

async function readAll(path: string, columns?: readonly ColumnSpec[]) {
  const out: Record<string, unknown>[] = [];
  for await (const r of readTable(path, columns)) out.push(r);
  return out;
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "proxkit-table-"));
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

describe("openTable and readTable", () => {
  for (const format of OUTPUT_FORMATS) {
    describe(format, () => {
      it("round-trips every column type, nulls included", async () => {
        const base = join(tempDir(), "t");
        const table = openTable(base, COLUMNS, format);
        for (let i = 0; i < 50; i++) table.write(row(i));
        table.close();
        expect(table.rows).toBe(50);
        const found = findTable(base);
        expect(found?.format).toBe(format);
        const rows = await readAll(found!.path, COLUMNS);
        expect(rows).toEqual(Array.from({ length: 50 }, (_, i) => expected(i)));
        expect(rows[0].id).toBeInstanceOf(Uint8Array);
        expect(typeof rows[0].at_ms).toBe("number");
      });

      it("writes and reads an empty table", async () => {
        const base = join(tempDir(), "empty");
        const table = openTable(base, COLUMNS, format);
        table.close();
        expect(table.rows).toBe(0);
        expect(await readAll(`${base}.${format}`, COLUMNS)).toEqual([]);
      });

      it("spans several row groups in order", async () => {
        const base = join(tempDir(), "big");
        const columns: ColumnSpec[] = [
          { name: "i", type: "int32" },
          { name: "at_ms", type: "timestamp-ms" },
          { name: "gap", type: "int32", nullable: true },
          { name: "x", type: "float64" },
          { name: "label", type: "string" },
        ];
        const table = openTable(base, columns, format);
        const n = 2 * ROW_GROUP_ROWS + 17;
        for (let i = 0; i < n; i++)
          table.write([i, START_MS + i * 1000, i % 10 === 0 ? null : i, i / 4, `l${i % 3}`]);
        table.close();
        let count = 0;
        for await (const r of readTable(`${base}.${format}`, columns)) {
          if (r.i !== count || r.at_ms !== START_MS + count * 1000) throw new Error(`row ${count}`);
          if (r.gap !== (count % 10 === 0 ? null : count)) throw new Error(`gap ${count}`);
          if (r.x !== count / 4 || r.label !== `l${count % 3}`)
            throw new Error(`x, label ${count}`);
          count++;
        }
        expect(count).toBe(n);
        if (format === "parquet") {
          const con = await (await DuckDBInstance.create(":memory:")).connect();
          const groups = await con.runAndReadAll(
            `select count(distinct row_group_id) from parquet_metadata('${base}.parquet')`,
          );
          expect(Number(groups.getRows()[0][0])).toBe(3);
          con.closeSync();
        }
      });

      it("refuses a value its column cannot hold", () => {
        const table = openTable(join(tempDir(), "bad"), COLUMNS, format);
        const bad = row(0);
        bad[0] = null;
        expect(() => table.write(bad)).toThrow(/"n" is not nullable/);
        bad[0] = 1.5;
        expect(() => table.write(bad)).toThrow(/"n" \(int32\)/);
        expect(() => table.write(row(0).slice(1))).toThrow(/needs 12 values/);
        table.close();
      });

      it("refuses what a typed column would silently coerce, and a refused row leaves nothing", async () => {
        const base = join(tempDir(), "coerce");
        const table = openTable(base, COLUMNS, format);
        table.write(row(0));
        const cases: [number, unknown, RegExp][] = [
          [0, "5", /"n" \(int32\) cannot hold string 5/],
          [0, 2 ** 31, /"n" \(int32\)/],
          [0, Number.NaN, /"n" \(int32\)/],
          [0, true, /"n" \(int32\)/],
          [1, "0.5", /"x" \(float64\)/],
          [1, null, /"x" is not nullable/],
          [4, START_MS + 0.5, /"at_ms" \(timestamp-ms\)/],
          [4, BigInt(START_MS), /"at_ms" \(timestamp-ms\)/],
          [6, 1.5, /"maybe_n" \(int32\)/],
        ];
        for (const [j, value, message] of cases) {
          const bad = row(1);
          bad[j] = value;
          expect(() => table.write(bad)).toThrow(message);
        }
        table.write(row(1));
        table.close();
        expect(table.rows).toBe(2);
        expect(await readAll(`${base}.${format}`, COLUMNS)).toEqual([expected(0), expected(1)]);
      });

      it("takes one row array refilled for every row", async () => {
        const base = join(tempDir(), "refill");
        const table = openTable(base, COLUMNS, format);
        const refilled: unknown[] = [];
        for (let i = 0; i < 40; i++) {
          refilled.length = 0;
          refilled.push(...row(i));
          table.write(refilled);
        }
        table.close();
        expect(await readAll(`${base}.${format}`, COLUMNS)).toEqual(
          Array.from({ length: 40 }, (_, i) => expected(i)),
        );
      });

      it("a truncated file is one ConfigError naming it", async () => {
        const base = join(tempDir(), "cut");
        const table = openTable(base, COLUMNS, format);
        for (let i = 0; i < 200; i++) table.write(row(i));
        table.close();
        const path = `${base}.${format}`;
        truncateSync(path, Math.floor(statSync(path).size / 2));
        const error = await rejection(readAll(path, COLUMNS));
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).code).toBe("E_RUN");
        expect(error.message).toContain(path);
        if (format === "jsonl") expect(error.message).toMatch(/line \d+: not a JSON object/);
        else expect(error.message).toMatch(/not a complete Parquet file/);
      });

      it("a column of the wrong type or a missing column is a ConfigError", async () => {
        const base = join(tempDir(), "other");
        const table = openTable(base, [{ name: "n", type: "string" }], format);
        table.write(["seven"]);
        table.close();
        const path = `${base}.${format}`;
        await expect(readAll(path, [{ name: "n", type: "int32" }])).rejects.toThrow(
          format === "jsonl" ? /line 1: "n" must be an integer/ : /"n" is BYTE_ARRAY/,
        );
        await expect(readAll(path, [{ name: "m", type: "int32" }])).rejects.toThrow(
          format === "jsonl" ? /line 1: "m" is missing/ : /has no column "m"/,
        );
      });
    });
  }

  it("Parquet: a column's dictionary as asked, the same values either way", async () => {
    const dir = tempDir();
    const columns = (dictionary: boolean | undefined): ColumnSpec[] =>
      COLUMNS.map((c) => (c.type === "boolean" ? c : { ...c, dictionary }));
    const n = 300;
    const encodings = async (path: string) => {
      const con = await (await DuckDBInstance.create(":memory:")).connect();
      const result = await con.runAndReadAll(
        `select path_in_schema, encodings from parquet_metadata('${path}') where row_group_id = 0`,
      );
      con.closeSync();
      return new Map(result.getRows().map(([name, list]) => [String(name), String(list)]));
    };
    for (const dictionary of [true, false, undefined]) {
      const base = join(dir, `d-${dictionary}`);
      const table = openTable(base, columns(dictionary), "parquet");
      for (let i = 0; i < n; i++) table.write(row(i));
      table.close();
      expect(await readAll(`${base}.parquet`, COLUMNS)).toEqual(
        Array.from({ length: n }, (_, i) => expected(i)),
      );
      const found = await encodings(`${base}.parquet`);
      // Timestamps are always delta-encoded; booleans never use a dictionary.
      expect(found.get("at_ms")).toBe("DELTA_BINARY_PACKED");
      expect(found.get("ok")).not.toMatch(/DICTIONARY/);
      if (dictionary === true) expect(found.get("x")).toMatch(/RLE_DICTIONARY/);
      if (dictionary === false) expect(found.get("label")).not.toMatch(/DICTIONARY/);
      // Unset, the writer decides: five labels are worth a dictionary, x = i / 7 is not.
      if (dictionary === undefined) {
        expect(found.get("label")).toMatch(/RLE_DICTIONARY/);
        expect(found.get("x")).not.toMatch(/DICTIONARY/);
      }
    }
  });

  it("JSON lines: column names as keys, bytes as lower-case hex, ms as numbers", () => {
    const base = join(tempDir(), "t");
    const table = openTable(base, COLUMNS, "jsonl");
    table.write(row(1));
    table.close();
    const line = readFileSync(`${base}.jsonl`, "utf8");
    expect(line.endsWith("\n")).toBe(true);
    expect(JSON.parse(line)).toEqual({
      n: -2,
      x: 1 / 7,
      ok: false,
      label: "r1é",
      at_ms: START_MS + 250,
      id: "0100ab00",
      maybe_n: null,
      maybe_x: null,
      maybe_ok: null,
      maybe_label: null,
      maybe_at_ms: null,
      maybe_id: null,
    });
  });

  it("JSON lines: a line that is not JSON names the file and line; blank lines are skipped", async () => {
    const path = join(tempDir(), "t.jsonl");
    writeFileSync(path, '{"n":1}\n\n{"n":2}\n{"n":\n');
    const error = await rejection(readAll(path, [{ name: "n", type: "int32" }]));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`${path} line 4: not a JSON object`);
  });

  it("a missing table says so", async () => {
    const path = join(tempDir(), "none.parquet");
    await expect(readAll(path)).rejects.toThrow(`${path} is missing`);
    expect(findTable(join(tempDir(), "none"))).toBeUndefined();
  });

  it("DuckDB reads the Parquet file and the JSON lines alike", async () => {
    const dir = tempDir();
    for (const format of OUTPUT_FORMATS) {
      const table = openTable(join(dir, "t"), COLUMNS, format);
      for (let i = 0; i < 300; i++) table.write(row(i));
      table.close();
    }
    const db = await DuckDBInstance.create(":memory:");
    const con = await db.connect();
    const select = (from: string, hex: (c: string) => string, ms: (c: string) => string) =>
      `select n, x, ok, label, ${ms("at_ms")} as at_ms, ${hex("id")} as id, maybe_n, maybe_x,
        maybe_ok, maybe_label, ${ms("maybe_at_ms")} as maybe_at_ms, ${hex("maybe_id")} as maybe_id
        from ${from}`;
    const parquet = select(
      `read_parquet('${join(dir, "t.parquet")}')`,
      (c) => `lower(hex(${c}))`,
      (c) => `epoch_ms(${c})`,
    );
    const jsonl = select(
      `read_json('${join(dir, "t.jsonl")}', format='newline_delimited', columns={n: 'INTEGER', x: 'DOUBLE', ok: 'BOOLEAN', label: 'VARCHAR', at_ms: 'BIGINT', id: 'VARCHAR', maybe_n: 'INTEGER', maybe_x: 'DOUBLE', maybe_ok: 'BOOLEAN', maybe_label: 'VARCHAR', maybe_at_ms: 'BIGINT', maybe_id: 'VARCHAR'})`,
      (c) => c,
      (c) => c,
    );
    const count = async (sql: string) =>
      Number((await con.runAndReadAll(`select count(*) from (${sql})`)).getRows()[0][0]);
    expect(await count(parquet)).toBe(300);
    expect(await count(jsonl)).toBe(300);
    expect(await count(`(${parquet}) except all (${jsonl})`)).toBe(0);
    expect(await count(`(${jsonl}) except all (${parquet})`)).toBe(0);
    con.closeSync();
  });
});

describe("openTable with the writer thread", () => {
  // The thread runs the compiled module (dist/), as it does for users.

  it("writes the same bytes as encoding in this thread, across row groups and nulls", () => {
    const dir = tempDir();
    const n = 2 * ROW_GROUP_ROWS + 31;
    const write = (name: string, thread: boolean) => {
      const table = openTable(join(dir, name), COLUMNS, "parquet", { thread });
      for (let i = 0; i < n; i++) table.write(row(i));
      table.close();
      return readFileSync(join(dir, `${name}.parquet`));
    };
    const here = write("here", false);
    const threaded = write("threaded", true);
    expect(threaded.length).toBeGreaterThan(0);
    expect(threaded.equals(here)).toBe(true);
  });

  it("serves several open tables at once, and an empty one", () => {
    const dir = tempDir();
    const columns: ColumnSpec[] = [
      { name: "i", type: "int32" },
      { name: "label", type: "string", dictionary: true },
    ];
    const tables = [0, 1, 2].map((t) =>
      openTable(join(dir, `t${t}`), columns, "parquet", { thread: true }),
    );
    for (let i = 0; i < ROW_GROUP_ROWS + 5; i++) tables[i % 2].write([i, `l${i % 3}`]);
    for (const table of tables) table.close();
    const local = [0, 1, 2].map((t) => openTable(join(dir, `l${t}`), columns, "parquet"));
    for (let i = 0; i < ROW_GROUP_ROWS + 5; i++) local[i % 2].write([i, `l${i % 3}`]);
    for (const table of local) table.close();
    for (const t of [0, 1, 2])
      expect(
        readFileSync(join(dir, `t${t}.parquet`)).equals(readFileSync(join(dir, `l${t}.parquet`))),
      ).toBe(true);
  });

  it("an error in the thread (its folder gone) is thrown by a later call, naming the file", () => {
    const dir = tempDir();
    const table = openTable(join(dir, "gone"), COLUMNS, "parquet", { thread: true });
    rmSync(dir, { recursive: true, force: true });
    const writeAndClose = () => {
      for (let i = 0; i < 3 * ROW_GROUP_ROWS; i++) table.write(row(i));
      table.close();
    };
    expect(writeAndClose).toThrow(/gone\.parquet/);
  });

  it("a file it cannot create is an error at open, naming it", () => {
    const missing = join(tempDir(), "no-such-folder", "t");
    expect(() => openTable(missing, COLUMNS, "parquet", { thread: true })).toThrow(
      /no-such-folder/,
    );
  });
});
