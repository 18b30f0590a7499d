/** Parsing of CLI values (keys, times, counts) into typed values, with one clear error each. */
import { ConfigError, KeyFileError } from "../core/errors.js";
import { fromHex } from "../core/hex.js";

/** Parses a key given as hex, or (when `allowBase64`) standard base64, of exactly `bytes` bytes. */
export function parseKey(
  text: string,
  what: string,
  bytes: number,
  allowBase64 = false,
): Uint8Array {
  const trimmed = text.trim();
  if (/^(0x)?[0-9a-fA-F]*$/.test(trimmed)) {
    const key = fromHex(trimmed, what);
    if (key.length !== bytes) {
      throw new KeyFileError(
        `${what} must be ${bytes} bytes (${2 * bytes} hex digits), got ${key.length} bytes`,
        "E_KEY_LENGTH",
      );
    }
    return key;
  }
  if (allowBase64 && /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    const key = new Uint8Array(Buffer.from(trimmed, "base64"));
    if (key.length !== bytes) {
      throw new KeyFileError(
        `${what} must be ${bytes} bytes, got ${key.length} bytes from base64`,
        "E_KEY_LENGTH",
      );
    }
    return key;
  }
  throw new KeyFileError(
    `${what} is ${allowBase64 ? "neither hex nor base64" : "not hex"}: ${JSON.stringify(text)}`,
    "E_KEY_FORMAT",
  );
}

/**
 * Parses a time given as an ISO 8601 date or date-time (UTC when it has no zone) into ms
 * since the Unix epoch. Returns `undefined` when `text` is not a date at all.
 */
export function parseIsoTimeMs(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d{4}-\d{2}-\d{2}/.test(trimmed)) return undefined;
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed) && trimmed.length > 10;
  const normalized =
    trimmed.length === 10 ? `${trimmed}T00:00:00Z` : hasZone ? trimmed : `${trimmed}Z`;
  const ms = Date.parse(normalized);
  if (Number.isNaN(ms) || !isCalendarDate(trimmed.slice(0, 10)))
    throw new ConfigError(`not a valid date-time: ${JSON.stringify(text)}`, "E_TIME");
  return ms;
}

/** Whether "YYYY-MM-DD" names a day that exists (Date.parse takes 2020-02-30 as March 1). */
export function isCalendarDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
  );
}

/** An integer option within [min, max]. */
export function parseInteger(value: unknown, what: string, min: number, max: number): number {
  const n =
    typeof value === "number"
      ? value
      : typeof value === "string" && value.trim() !== ""
        ? Number(value)
        : Number.NaN;
  if (!Number.isInteger(n))
    throw new ConfigError(
      `${what} must be a whole number, got ${JSON.stringify(value)}`,
      "E_NUMBER",
    );
  if (n < min || n > max)
    throw new ConfigError(`${what} must be between ${min} and ${max}, got ${n}`, "E_RANGE");
  return n;
}

/** A --max-mb option as bytes (1 MB to 4 GB). */
export function maxMegabytes(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 1 || value > 4096) {
    throw new ConfigError(
      `--max-mb must be a number of megabytes in 1..4096, got ${JSON.stringify(value)}`,
      "E_RANGE",
    );
  }
  return Math.round(value * 1024 * 1024);
}

const DURATION_UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** The longest duration any option takes: 10 years (3650 days). */
export const MAX_DURATION_MS = 3650 * 86_400_000;

/**
 * A duration such as "90s", "10m", "1.5h", "2d" or "500ms" (a bare number is seconds), as ms;
 * `what` names the option in the error.
 */
export function parseDurationMs(value: unknown, what: string): number {
  const text = String(value).trim();
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i.exec(text);
  if (!match) {
    throw new ConfigError(
      `${what} must be a duration such as 90s, 10m, 2h or 1d, got ${JSON.stringify(value)}`,
      "E_DURATION",
    );
  }
  const ms = Number(match[1]) * DURATION_UNIT_MS[(match[2] ?? "s").toLowerCase()];
  if (!(ms > 0))
    throw new ConfigError(`${what} must be longer than 0, got ${JSON.stringify(value)}`, "E_RANGE");
  if (!(ms <= MAX_DURATION_MS))
    throw new ConfigError(
      `${what} must be at most 10 years (3650d), got ${JSON.stringify(value)}`,
      "E_RANGE",
    );
  return Math.round(ms);
}
