/**
 * A uniform grid over the scene, rebuilt after each mobility step by a counting sort (O(agents +
 * cells), no allocation). Queries visit the cells overlapping the query's bounding box, so their
 * cost grows with the agents nearby, not with the crowd.
 */
import type { Agents } from "./agents.js";
import type { Rect } from "./geometry.js";

/** Called once per neighbour with its index and distance. */
export type NeighbourCallback = (j: number, distanceM: number) => void;
/** Called once per unordered pair, `a < b`. */
export type PairCallback = (a: number, b: number, distanceM: number) => void;

export class SpatialGrid {
  readonly agents: Agents;
  readonly cellSizeM: number;
  readonly originXM: number;
  readonly originYM: number;
  readonly cols: number;
  readonly rows: number;
  /** Agents of cell c are `cellAgents[cellStart[c] .. cellStart[c + 1] - 1]`. */
  private readonly cellStart: Int32Array;
  private readonly cellAgents: Int32Array;
  private readonly agentCell: Int32Array;
  private readonly cursor: Int32Array;
  /**
   * Positions at the last rebuild in cell order (`cellX[k]` is `xM[cellAgents[k]]`): the pair
   * scan and the neighbour and segment queries read them in sequence instead of gathering them
   * agent by agent (a cache miss each in a large crowd whose cells hold scattered indices).
   */
  private readonly cellX: Float64Array;
  private readonly cellY: Float64Array;

  /**
   * `bounds` is where agents usually are (those outside fall into the edge cells, which stays
   * correct, only slower). The cell size grows if the grid would have more than ~4 cells per agent.
   */
  /** The constructor's arguments (a grid built from them over the same agents is this grid). */
  readonly bounds: Rect;
  readonly requestedCellSizeM: number;

  constructor(agents: Agents, bounds: Rect, cellSizeM: number) {
    if (!(cellSizeM > 0)) throw new RangeError(`cell size must be positive, got ${cellSizeM}`);
    this.bounds = { ...bounds };
    this.requestedCellSizeM = cellSizeM;
    const maxCells = 4 * agents.capacity + 1024;
    let size = cellSizeM;
    while (
      Math.max(1, Math.ceil(bounds.widthM / size)) * Math.max(1, Math.ceil(bounds.heightM / size)) >
      maxCells
    ) {
      size *= 1.5;
    }
    this.agents = agents;
    this.cellSizeM = size;
    this.originXM = bounds.xM;
    this.originYM = bounds.yM;
    this.cols = Math.max(1, Math.ceil(bounds.widthM / size));
    this.rows = Math.max(1, Math.ceil(bounds.heightM / size));
    const cells = this.cols * this.rows;
    this.cellStart = new Int32Array(cells + 1);
    this.cursor = new Int32Array(cells);
    this.cellAgents = new Int32Array(agents.capacity);
    this.cellX = new Float64Array(agents.capacity);
    this.cellY = new Float64Array(agents.capacity);
    this.agentCell = new Int32Array(agents.capacity).fill(-1);
  }

  private colOf(xM: number): number {
    const c = Math.floor((xM - this.originXM) / this.cellSizeM);
    return c < 0 ? 0 : c >= this.cols ? this.cols - 1 : c;
  }

  private rowOf(yM: number): number {
    const r = Math.floor((yM - this.originYM) / this.cellSizeM);
    return r < 0 ? 0 : r >= this.rows ? this.rows - 1 : r;
  }

  /** Re-sorts the present agents into cells; call after every mobility step. */
  rebuild(): void {
    const { agents, cellStart, cursor, cellAgents, agentCell } = this;
    const cells = this.cols * this.rows;
    cellStart.fill(0);
    for (let i = 0; i < agents.count; i++) {
      if (agents.present[i] === 0) {
        agentCell[i] = -1;
        continue;
      }
      const c = this.rowOf(agents.yM[i]) * this.cols + this.colOf(agents.xM[i]);
      agentCell[i] = c;
      cellStart[c + 1]++;
    }
    for (let c = 0; c < cells; c++) {
      cellStart[c + 1] += cellStart[c];
      cursor[c] = cellStart[c];
    }
    const { cellX, cellY } = this;
    const ax = agents.xM;
    const ay = agents.yM;
    for (let i = 0; i < agents.count; i++) {
      const c = agentCell[i];
      if (c < 0) continue;
      const k = cursor[c]++;
      cellAgents[k] = i;
      cellX[k] = ax[i];
      cellY[k] = ay[i];
    }
  }

  /** Whether agent `i` was present at the last rebuild. */
  contains(i: number): boolean {
    return this.agentCell[i] >= 0;
  }

  /**
   * Calls `callback(j, distanceM)` for every present agent `j !== exclude` within `rangeM` of
   * (xM, yM), in grid order; returns how many.
   */
  forEachNear(
    xM: number,
    yM: number,
    rangeM: number,
    exclude: number,
    callback: NeighbourCallback,
  ): number {
    const { agents, cellStart, cellAgents, cols } = this;
    const ax = agents.xM;
    const ay = agents.yM;
    const r2 = rangeM * rangeM;
    const c0 = this.colOf(xM - rangeM);
    const c1 = this.colOf(xM + rangeM);
    const r0 = this.rowOf(yM - rangeM);
    const r1 = this.rowOf(yM + rangeM);
    let found = 0;
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const cell = r * cols + c;
        const end = cellStart[cell + 1];
        for (let k = cellStart[cell]; k < end; k++) {
          const j = cellAgents[k];
          if (j === exclude) continue;
          const dx = ax[j] - xM;
          const dy = ay[j] - yM;
          const d2 = dx * dx + dy * dy;
          if (d2 <= r2) {
            found++;
            callback(j, Math.sqrt(d2));
          }
        }
      }
    }
    return found;
  }

  /** `forEachNear` around agent `i`, excluding `i` itself. */
  forEachNeighbour(i: number, rangeM: number, callback: NeighbourCallback): number {
    return this.forEachNear(this.agents.xM[i], this.agents.yM[i], rangeM, i, callback);
  }

  /**
   * Writes the indices of the present agents within `rangeM` of agent `i` (excluding `i`) into
   * `out` and returns how many there are; at most `out.length` are written.
   */
  neighboursOf(i: number, rangeM: number, out: Int32Array): number {
    const { agents, cellStart, cellAgents, cols } = this;
    const ax = agents.xM;
    const ay = agents.yM;
    const xM = ax[i];
    const yM = ay[i];
    const r2 = rangeM * rangeM;
    const c0 = this.colOf(xM - rangeM);
    const c1 = this.colOf(xM + rangeM);
    const r0 = this.rowOf(yM - rangeM);
    const r1 = this.rowOf(yM + rangeM);
    const cap = out.length;
    let n = 0;
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const cell = r * cols + c;
        const end = cellStart[cell + 1];
        for (let k = cellStart[cell]; k < end; k++) {
          const j = cellAgents[k];
          if (j === i) continue;
          const dx = ax[j] - xM;
          const dy = ay[j] - yM;
          if (dx * dx + dy * dy <= r2) {
            if (n < cap) out[n] = j;
            n++;
          }
        }
      }
    }
    return n;
  }

  /**
   * `neighboursOf` with a class filter: of the present agents within `rangeM` of agent `i`,
   * those `j` with squared distance at most `keepD2[classOf[j]]` are written to the front of
   * `out` (their number is left in `kept`) with that squared distance at the same index of
   * `outD2`, the others to the back (`out[out.length - 1]` downwards). Returns how many are
   * within `rangeM`; `out` and `outD2` must hold them all. Reads the positions of the last
   * rebuild (call it after every move, as the engine does).
   */
  neighboursByClass(
    i: number,
    rangeM: number,
    classOf: Uint8Array,
    keepD2: Float64Array,
    out: Int32Array,
    outD2: Float64Array,
  ): number {
    const { agents, cellStart, cellAgents, cols } = this;
    // Positions in cell order: read in sequence, not gathered agent by agent.
    const ax = this.cellX;
    const ay = this.cellY;
    const xM = agents.xM[i];
    const yM = agents.yM[i];
    const r2 = rangeM * rangeM;
    const r0 = this.rowOf(yM - rangeM);
    const r1 = this.rowOf(yM + rangeM);
    const size = this.cellSizeM;
    let front = 0;
    let back = out.length;
    for (let r = r0; r <= r1; r++) {
      // Only the columns the range's circle reaches in this row's band (the edge rows reach to
      // infinity), widened by a micrometre for rounding in the cell assignment: cells left out
      // hold nobody in range, and the others come in the same order.
      const bandLo = r === 0 ? Number.NEGATIVE_INFINITY : this.originYM + r * size;
      const bandHi =
        r === this.rows - 1 ? Number.POSITIVE_INFINITY : this.originYM + (r + 1) * size;
      const gap = Math.max(0, yM < bandLo ? bandLo - yM : yM > bandHi ? yM - bandHi : 0) - 1e-6;
      const halfM = (gap > 0 ? Math.sqrt(Math.max(0, r2 - gap * gap)) : rangeM) + 1e-6;
      // The row's cells are contiguous in `cellAgents`: one run from the first to the last.
      const end = cellStart[r * cols + this.colOf(xM + halfM) + 1];
      for (let k = cellStart[r * cols + this.colOf(xM - halfM)]; k < end; k++) {
        const dx = ax[k] - xM;
        const dy = ay[k] - yM;
        const d2 = dx * dx + dy * dy;
        if (d2 <= r2) {
          const j = cellAgents[k];
          if (j === i) continue;
          if (d2 <= keepD2[classOf[j]]) {
            outD2[front] = d2;
            out[front++] = j;
          } else out[--back] = j;
        }
      }
    }
    this.kept = front;
    return front + out.length - back;
  }

  /** How many agents the last `neighboursByClass` kept. */
  kept = 0;

  /** Calls `callback(a, b, distanceM)` once for every unordered pair of present agents within `rangeM`. */
  forEachPair(rangeM: number, callback: PairCallback): number {
    if (rangeM <= this.cellSizeM) return this.forEachPairByCells(rangeM, callback);
    const { agents, cellStart, cellAgents, cols } = this;
    const ax = agents.xM;
    const ay = agents.yM;
    const r2 = rangeM * rangeM;
    let found = 0;
    for (let a = 0; a < agents.count; a++) {
      if (this.agentCell[a] < 0) continue;
      const xM = ax[a];
      const yM = ay[a];
      const c0 = this.colOf(xM - rangeM);
      const c1 = this.colOf(xM + rangeM);
      const r0 = this.rowOf(yM - rangeM);
      const r1 = this.rowOf(yM + rangeM);
      for (let r = r0; r <= r1; r++) {
        for (let c = c0; c <= c1; c++) {
          const cell = r * cols + c;
          const end = cellStart[cell + 1];
          for (let k = cellStart[cell]; k < end; k++) {
            const b = cellAgents[k];
            if (b <= a) continue;
            const dx = ax[b] - xM;
            const dy = ay[b] - yM;
            const d2 = dx * dx + dy * dy;
            if (d2 <= r2) {
              found++;
              callback(a, b, Math.sqrt(d2));
            }
          }
        }
      }
    }
    return found;
  }

  /**
   * `forEachPair` for a range within one cell: each cell is paired with itself and its four
   * forward neighbours (east, and the three below), so every cell pair is visited once and no
   * per-agent cell arithmetic is needed.
   */
  private forEachPairByCells(rangeM: number, callback: PairCallback): number {
    const { cellStart, cellAgents, cols, rows } = this;
    // Positions as of the last rebuild, in cell order (the callers scan right after it).
    const ax = this.cellX;
    const ay = this.cellY;
    const r2 = rangeM * rangeM;
    let found = 0;
    const visit = (k0: number, k1: number, other: number): void => {
      const start = cellStart[other];
      const end = cellStart[other + 1];
      if (start === end) return;
      for (let k = k0; k < k1; k++) {
        const xM = ax[k];
        const yM = ay[k];
        for (let m = start; m < end; m++) {
          const dx = ax[m] - xM;
          const dy = ay[m] - yM;
          const d2 = dx * dx + dy * dy;
          if (d2 <= r2) {
            found++;
            const i = cellAgents[k];
            const j = cellAgents[m];
            if (i < j) callback(i, j, Math.sqrt(d2));
            else callback(j, i, Math.sqrt(d2));
          }
        }
      }
    };
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const cell = r * cols + c;
        const k0 = cellStart[cell];
        const k1 = cellStart[cell + 1];
        if (k0 === k1) continue;
        // Pairs inside the cell.
        for (let k = k0; k < k1; k++) {
          const xM = ax[k];
          const yM = ay[k];
          for (let m = k + 1; m < k1; m++) {
            const dx = ax[m] - xM;
            const dy = ay[m] - yM;
            const d2 = dx * dx + dy * dy;
            if (d2 <= r2) {
              found++;
              const i = cellAgents[k];
              const j = cellAgents[m];
              if (i < j) callback(i, j, Math.sqrt(d2));
              else callback(j, i, Math.sqrt(d2));
            }
          }
        }
        if (c + 1 < cols) visit(k0, k1, cell + 1);
        if (r + 1 < rows) {
          if (c > 0) visit(k0, k1, cell + cols - 1);
          visit(k0, k1, cell + cols);
          if (c + 1 < cols) visit(k0, k1, cell + cols + 1);
        }
      }
    }
    return found;
  }

  /**
   * How many present agents other than `a` and `b` stand within `radiusM` of the segment from
   * `a` to `b` (between them, not behind either end), counting up to `maxCount`. Reads the
   * positions of the last rebuild for the people counted.
   */
  countNearSegment(a: number, b: number, radiusM: number, maxCount: number): number {
    const { agents, cellStart, cellAgents, cols } = this;
    const x0 = agents.xM[a];
    const y0 = agents.yM[a];
    const dx = agents.xM[b] - x0;
    const dy = agents.yM[b] - y0;
    // Positions of the last rebuild in cell order (as `neighboursByClass`).
    const ax = this.cellX;
    const ay = this.cellY;
    const len2 = dx * dx + dy * dy;
    if (len2 <= 4 * radiusM * radiusM) return 0;
    const r2 = radiusM * radiusM;
    const r0 = this.rowOf(Math.min(y0, y0 + dy) - radiusM);
    const r1 = this.rowOf(Math.max(y0, y0 + dy) + radiusM);
    const size = this.cellSizeM;
    let n = 0;
    // Row by row, only the columns the segment (widened by the radius) crosses in that row's
    // band; edge rows reach to infinity, as agents outside the bounds sit in the edge cells.
    for (let r = r0; r <= r1; r++) {
      const bandLo = r === 0 ? Number.NEGATIVE_INFINITY : this.originYM + r * size - radiusM;
      const bandHi =
        r === this.rows - 1 ? Number.POSITIVE_INFINITY : this.originYM + (r + 1) * size + radiusM;
      let tLo = 0;
      let tHi = 1;
      if (dy !== 0) {
        const ta = (bandLo - y0) / dy;
        const tb = (bandHi - y0) / dy;
        tLo = Math.max(0, Math.min(ta, tb));
        tHi = Math.min(1, Math.max(ta, tb));
        if (tLo > tHi) continue;
      } else if (y0 < bandLo || y0 > bandHi) continue;
      const xa = x0 + tLo * dx;
      const xb = x0 + tHi * dx;
      const c0 = this.colOf(Math.min(xa, xb) - radiusM);
      const c1 = this.colOf(Math.max(xa, xb) + radiusM);
      for (let c = c0; c <= c1; c++) {
        const cell = r * cols + c;
        const end = cellStart[cell + 1];
        for (let k = cellStart[cell]; k < end; k++) {
          const px = ax[k] - x0;
          const py = ay[k] - y0;
          const dot = px * dx + py * dy;
          if (dot <= 0 || dot >= len2) continue;
          const cross = px * dy - py * dx;
          if (cross * cross <= r2 * len2) {
            const j = cellAgents[k];
            if (j === a || j === b) continue;
            n++;
            if (n >= maxCount) return n;
          }
        }
      }
    }
    return n;
  }
}
