/**
 * Reads published keys for matching: GAEN diagnosis-key files (zip or export.bin), and JSON
 * lines of keys (GAEN keys as `proxkit keys export` takes them; Bluezone and DP-3T day keys
 * as `{"protocol": "bluezone", "key": "<64 hex>", "date": "2021-07-01", "days": 3,
 * "start": <unix s>, "end": <unix s>}`).
 */
import { type CodecError, KeyFileError } from "../core/errors.js";
import { fromHex } from "../core/hex.js";
import type { PublishedDayKey } from "../exposure/chained-key-matcher.js";
import type { PublishedKey } from "../exposure/gaen-matcher.js";
import { decodeExportBin, parseDiagnosisKeysJsonl } from "../exposure/key-file/index.js";
import { readKeyFile } from "./key-file-archive.js";
import { INPUT_LIMITS, readInputFile } from "./read-input-file.js";

export interface PublishedKeys {
  gaen: PublishedKey[];
  dayKeys: PublishedDayKey[];
}

function parseDayKeyLine(json: Record<string, unknown>, where: string): PublishedDayKey {
  const protocol = json.protocol as "bluezone" | "dp3t";
  if (typeof json.key !== "string")
    throw new KeyFileError(`${where}: "key" must be 64 hex digits`, "E_KEY_FORMAT");
  let key: Uint8Array;
  try {
    key = fromHex(json.key, `${where}: "key"`, 32);
  } catch (error) {
    throw new KeyFileError((error as CodecError).message, "E_KEY_FORMAT");
  }
  const date = json.date;
  if (
    typeof date !== "string" ||
    !/^\d{4}-\d{2}-\d{2}$/.test(date) ||
    Number.isNaN(Date.parse(`${date}T00:00:00Z`))
  ) {
    throw new KeyFileError(
      `${where}: "date" must be the key's UTC day, YYYY-MM-DD`,
      "E_KEY_FORMAT",
    );
  }
  const day = Math.floor(Date.parse(`${date}T00:00:00Z`) / 86_400_000);
  const days = json.days === undefined ? 1 : json.days;
  if (!Number.isInteger(days) || (days as number) < 1 || (days as number) > 366) {
    throw new KeyFileError(`${where}: "days" must be a whole number in 1..366`, "E_KEY_FORMAT");
  }
  const time = (field: "start" | "end") => {
    const v = json[field];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v))
      throw new KeyFileError(`${where}: "${field}" must be unix seconds`, "E_KEY_FORMAT");
    return v * 1000;
  };
  return {
    protocol,
    key: { day, key },
    days: days as number,
    startMs: time("start"),
    endMs: time("end"),
  };
}

/** Reads one file of published keys into `into`. */
export function readPublishedKeys(
  path: string,
  into: PublishedKeys = { gaen: [], dayKeys: [] },
  options: { maxBytes?: number } = {},
): PublishedKeys {
  if (!path.endsWith(".jsonl")) {
    const { bin, format } = readKeyFile(path, { maxBytes: options.maxBytes });
    const file = decodeExportBin(bin, format === "bin" ? path : `${path}: export.bin`);
    for (const k of file.keys) {
      into.gaen.push({
        keyData: k.keyData,
        rollingStartIntervalNumber: k.rollingStartIntervalNumber,
        rollingPeriod: k.rollingPeriod,
      });
    }
    return into;
  }
  // Read whole, at most 256 MB (a million keys is ~100 MB), so no line can outgrow a string.
  const text = readInputFile(path, { what: "key file", maxBytes: INPUT_LIMITS.wholeLinesBytes });
  const gaenLines: string[] = [];
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) {
      gaenLines.push("");
      return;
    }
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(trimmed);
    } catch {
      throw new KeyFileError(`${path} line ${i + 1}: not valid JSON`, "E_KEY_FORMAT");
    }
    if (json.protocol === "bluezone" || json.protocol === "dp3t") {
      into.dayKeys.push(parseDayKeyLine(json, `${path} line ${i + 1}`));
      gaenLines.push("");
    } else {
      gaenLines.push(trimmed);
    }
  });
  if (gaenLines.some((l) => l !== "")) {
    for (const k of parseDiagnosisKeysJsonl(gaenLines.join("\n"), path)) {
      into.gaen.push({
        keyData: k.keyData,
        rollingStartIntervalNumber: k.rollingStartIntervalNumber,
        rollingPeriod: k.rollingPeriod,
      });
    }
  }
  return into;
}
