import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { PARTITIONS, PartitionedRows } from "../../../sim/evaluation/partitioned-rows.js";

/** Appends rows [agent, k, k + 1, …] of `length` values for agents 0 .. agents − 1, `rounds` times. */
function fill(rows: PartitionedRows, agents: number, rounds: number, length: number) {
  for (let round = 0; round < rounds; round++)
    for (let agent = 0; agent < agents; agent++) {
      const { buffer, at } = rows.row(agent, length);
      buffer[at] = agent;
      for (let k = 1; k < length; k++) buffer[at + k] = round * 1000 + k;
      rows.settle();
    }
}

const pairsDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith("proxkit-pairs-"));

describe("PartitionedRows", () => {
  it("gives each partition's rows back in the order they came, from memory or from files", () => {
    const before = pairsDirs().length;
    const read = (memoryBytes: number) => {
      const rows = new PartitionedRows(100, memoryBytes);
      fill(rows, 100, 5, 7);
      const parts = Array.from({ length: rows.partitions }, (_, p) => Array.from(rows.read(p)));
      return { rows, parts };
    };
    const inMemory = read(1 << 20);
    const onDisk = read(256);
    expect(inMemory.rows.onDisk).toBe(false);
    expect(onDisk.rows.onDisk).toBe(true);
    // The files are unlinked as soon as they are opened: nothing is left in the temporary folder.
    expect(pairsDirs().length).toBe(before);
    expect(onDisk.parts).toEqual(inMemory.parts);
    // Agents by range: 100 agents over 32 partitions, 4 to a partition (the last takes the rest).
    expect(inMemory.rows.partitionOf(0)).toBe(0);
    expect(inMemory.rows.partitionOf(99)).toBe(24);
    const first = inMemory.parts[0];
    expect(first.length).toBe(4 * 5 * 7);
    expect(first.slice(0, 7)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(first.slice(4 * 7, 4 * 7 + 2)).toEqual([0, 1001]);
    onDisk.rows.close();
    expect(() => onDisk.rows.read(0)).toThrow(/closed/);
    expect(() => onDisk.rows.row(0, 1)).toThrow(/closed/);
    expect(PARTITIONS).toBe(32);
  });

  it("holds at most its memory allowance between rows", () => {
    const rows = new PartitionedRows(1000, 4096);
    fill(rows, 1000, 3, 5);
    // What is held is flushed past 4 kB; the buffers keep their size for the next rows.
    expect(rows.onDisk).toBe(true);
    let total = 0;
    for (let p = 0; p < rows.partitions; p++) total += rows.read(p).length;
    expect(total).toBe(1000 * 3 * 5);
    rows.close();
  });
});
