/**
 * Diagnosis keys as JSON lines, the input of `proxkit keys export`: one object per line,
 * `{"key": "<32 hex digits or base64>", "rollingStartIntervalNumber": N, "rollingPeriod": 144,
 * "transmissionRiskLevel"?, "reportType"?, "daysSinceOnsetOfSymptoms"?}`. Blank lines are skipped.
 */
import { KeyFileError } from "../../core/errors.js";
import { fromHex } from "../../core/hex.js";
import { GAEN_KEY_BYTES, GAEN_ROLLING_PERIOD } from "../../protocols/gaen.js";
import { type DiagnosisKey, diagnosisKeyProblem, REPORT_TYPES } from "./key-file.js";

const JSON_NAMES: Readonly<Record<keyof DiagnosisKey, string>> = {
  keyData: "key",
  transmissionRiskLevel: "transmissionRiskLevel",
  rollingStartIntervalNumber: "rollingStartIntervalNumber",
  rollingPeriod: "rollingPeriod",
  reportType: "reportType",
  daysSinceOnsetOfSymptoms: "daysSinceOnsetOfSymptoms",
};
const FIELDS = new Set(Object.values(JSON_NAMES));
const OPTIONAL_INTEGERS = ["transmissionRiskLevel", "daysSinceOnsetOfSymptoms"] as const;

/** Decodes a key given as 32 hex digits or as base64 (standard or URL-safe) of 16 bytes. */
function keyBytes(text: string): Uint8Array | undefined {
  if (/^[0-9a-fA-F]{32}$/.test(text)) return fromHex(text);
  if (!/^[A-Za-z0-9+/_-]{22}(==)?$/.test(text)) return undefined;
  const bytes = new Uint8Array(Buffer.from(text, "base64"));
  return bytes.length === GAEN_KEY_BYTES ? bytes : undefined;
}

function parseLine(line: string, fail: (message: string) => never): DiagnosisKey {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    fail(`not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail("expected a JSON object");
  }
  const record = value as Record<string, unknown>;
  for (const field of Object.keys(record)) {
    if (!FIELDS.has(field)) {
      fail(`unknown field "${field}" (expected ${[...FIELDS].join(", ")})`);
    }
  }
  const keyText = record.key;
  if (typeof keyText !== "string") fail('"key" is missing or not a string');
  const keyData = keyBytes(keyText);
  if (!keyData) {
    fail(`"key" must be ${GAEN_KEY_BYTES * 2} hex digits or the base64 of ${GAEN_KEY_BYTES} bytes`);
  }
  const integer = (field: string, required: boolean): number | undefined => {
    const v = record[field];
    if (v === undefined && !required) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v)) {
      fail(
        `"${field}" must be a whole number${v === undefined ? "" : `, got ${JSON.stringify(v)}`}`,
      );
    }
    return v;
  };
  const key: DiagnosisKey = {
    keyData,
    rollingStartIntervalNumber: integer("rollingStartIntervalNumber", true)!,
    rollingPeriod: integer("rollingPeriod", false) ?? GAEN_ROLLING_PERIOD,
  };
  for (const field of OPTIONAL_INTEGERS) {
    const v = integer(field, false);
    if (v !== undefined) key[field] = v;
  }
  const reportType = record.reportType;
  if (typeof reportType === "string") {
    const index = (REPORT_TYPES as readonly string[]).indexOf(reportType);
    if (index < 0)
      fail(`"reportType" ${JSON.stringify(reportType)} is not one of ${REPORT_TYPES.join(", ")}`);
    key.reportType = index;
  } else if (reportType !== undefined) {
    key.reportType = integer("reportType", false);
  }
  const problem = diagnosisKeyProblem(key, JSON_NAMES);
  if (problem) fail(problem);
  return key;
}

/**
 * Parses diagnosis keys from JSON lines. `reportType` may be a number or a name such as
 * "CONFIRMED_TEST"; `rollingPeriod` defaults to 144. Any fault is a `KeyFileError` naming
 * `source` and the 1-based line number.
 */
export function parseDiagnosisKeysJsonl(text: string, source = "keys"): DiagnosisKey[] {
  const keys: DiagnosisKey[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    const fail = (message: string): never => {
      throw new KeyFileError(`${source} line ${i + 1}: ${message}`, "E_KEYS_JSONL");
    };
    keys.push(parseLine(line, fail));
  }
  return keys;
}
