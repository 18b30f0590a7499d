/**
 * RSSI recordings as CSV: a header naming at least `time` and `rssi` (any order, any case;
 * other columns are ignored, except that a `distance` column in centimetres is read as ground
 * truth when asked for, as in the Herald project's robot-rig files). Times are ISO-like
 * date-times, UTC unless they carry a zone ("2021-01-04 14:22:03", "2021-01-04T14:22:03.5Z"),
 * or Unix seconds ("1609770123.25").
 *
 * Parsing is line by line so a caller can stream a large file; errors are `CodecError`s that
 * name the file and line.
 */
import { CodecError } from "../core/errors.js";
import { splitCsvLine } from "./calibration-table.js";

/** One parsed row. */
export interface RssiRow {
  readonly atMs: number;
  readonly rssiDbm: number;
  /** Ground truth in metres, when the file has a `distance` column (in cm) and it was asked for. */
  readonly distanceM?: number;
}

const TIME_COLUMNS = ["time", "t", "timestamp"];
const RSSI_COLUMNS = ["rssi", "rssi_dbm", "rssidbm"];
const DISTANCE_COLUMN = "distance";
const ISO_NO_ZONE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Parses a time cell into ms since the epoch, or returns `undefined` when it is not a time. */
export function parseTimeMs(text: string): number | undefined {
  const trimmed = text.trim();
  if (NUMBER.test(trimmed)) {
    const seconds = Number(trimmed);
    return Number.isFinite(seconds) ? Math.round(seconds * 1000) : undefined;
  }
  const m = ISO_NO_ZONE.exec(trimmed);
  if (m) {
    const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], m[6] ? +m[6] : 0);
    const fraction = m[7] ? Math.round(Number(m[7]) * 1000) : 0;
    const month = +m[2];
    const day = +m[3];
    if (month < 1 || month > 12 || day < 1 || day > 31 || +m[4] > 23 || +m[5] > 59)
      return undefined;
    return ms + fraction;
  }
  if (/^\d{4}-\d{2}-\d{2}[ T].*(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed)) {
    const ms = Date.parse(trimmed.replace(" ", "T"));
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/** Reads an RSSI CSV one line at a time: first the header, then the rows. */
export class RssiCsvReader {
  readonly where: string;
  private readonly withDistance: boolean;
  private timeColumn = -1;
  private rssiColumn = -1;
  private distanceColumn = -1;
  private lastMs = Number.NEGATIVE_INFINITY;

  /** `where` names the source in errors (a file name); `withDistance` requires a distance column. */
  constructor(where: string, options: { withDistance?: boolean } = {}) {
    this.where = where;
    this.withDistance = options.withDistance ?? false;
  }

  get hasHeader(): boolean {
    return this.timeColumn >= 0;
  }

  /** Reads the header line. */
  header(line: string): void {
    const names = splitCsvLine(line.replace(/^\uFEFF/, "")).map((n) => n.trim().toLowerCase());
    this.timeColumn = names.findIndex((n) => TIME_COLUMNS.includes(n));
    this.rssiColumn = names.findIndex((n) => RSSI_COLUMNS.includes(n));
    this.distanceColumn = names.indexOf(DISTANCE_COLUMN);
    if (
      this.timeColumn < 0 ||
      this.rssiColumn < 0 ||
      (this.withDistance && this.distanceColumn < 0)
    ) {
      this.timeColumn = -1;
      const wanted = this.withDistance ? "time, rssi and distance" : "time and rssi";
      throw new CodecError(
        `${this.where} line 1: the header must name the columns ${wanted}, got ${JSON.stringify(line.slice(0, 80))}`,
        undefined,
        "E_RSSI_CSV",
      );
    }
  }

  /**
   * Parses a data line (`lineNumber` counts from 1, the header being line 1). Returns
   * `undefined` for a blank line.
   */
  row(line: string, lineNumber: number): RssiRow | undefined {
    if (line.trim() === "") return undefined;
    const fail = (what: string): never => {
      throw new CodecError(`${this.where} line ${lineNumber}: ${what}`, undefined, "E_RSSI_CSV");
    };
    const cells = line.includes('"') ? splitCsvLine(line) : line.split(",");
    const timeText = cells[this.timeColumn];
    const rssiText = cells[this.rssiColumn];
    if (timeText === undefined || rssiText === undefined)
      fail(
        `expected at least ${Math.max(this.timeColumn, this.rssiColumn) + 1} columns, got ${cells.length}`,
      );
    const atMs = parseTimeMs(timeText);
    if (atMs === undefined)
      fail(`time is neither a date-time nor Unix seconds: ${JSON.stringify(timeText)}`);
    if ((atMs as number) < this.lastMs)
      fail(`time goes backwards (${JSON.stringify(timeText.trim())}); rows must be in time order`);
    this.lastMs = atMs as number;
    const rssiDbm = Number(rssiText.trim());
    if (rssiText.trim() === "" || !NUMBER.test(rssiText.trim()) || !Number.isFinite(rssiDbm))
      fail(`RSSI is not a number: ${JSON.stringify(rssiText)}`);
    if (!this.withDistance || this.distanceColumn < 0) return { atMs: atMs as number, rssiDbm };
    const distanceText = (cells[this.distanceColumn] ?? "").trim();
    const distanceCm = Number(distanceText);
    if (distanceText === "" || !Number.isFinite(distanceCm) || distanceCm < 0)
      fail(`distance (cm) is not a non-negative number: ${JSON.stringify(distanceText)}`);
    return { atMs: atMs as number, rssiDbm, distanceM: distanceCm / 100 };
  }
}
