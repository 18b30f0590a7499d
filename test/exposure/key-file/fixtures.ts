import { join } from "node:path";
import { expect } from "vitest";
import { KeyFileError } from "../../../src/core/errors.js";
import { SeededRandom } from "../../../src/core/random.js";
import type { DiagnosisKey } from "../../../src/exposure/key-file/index.js";
import { needData, sharedData } from "../../support/requirements.js";

/** `../shared/data/gaen` beside the repository (docs/protocols.md, real files). */
export const GAEN_DATA_DIR = sharedData("gaen");
export const SIGNED_ZIP = join(GAEN_DATA_DIR, "sample-signed-export.zip");
export const BIN_200_KEYS = join(GAEN_DATA_DIR, "export-200-keys.bin");
/** The two real files the suites below `describeWith(REAL_FILES)` read. */
export const REAL_FILES = needData("gaen/sample-signed-export.zip", "gaen/export-200-keys.bin");

/** Verification key of the signed sample (key id "310", version "v1"), base64 SPKI; docs/protocols.md. */
export const SAMPLE_PUBLIC_KEY =
  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE49JY6kekDgxj3Crm4y6kEHdfoKQFSNDM4mV9cgDb+e5nOAw0GeRoRThCu9/wX5wDT2QloFoOjl2pGZHI0f3C3w==";

/** `count` valid keys from a seeded PRNG, one per day from 2020-07-01 (ENIN 2653776). */
export function makeKeys(count: number, seed = 1): DiagnosisKey[] {
  const random = new SeededRandom(seed);
  return Array.from({ length: count }, (_, i) => ({
    keyData: random.bytes(16),
    rollingStartIntervalNumber: 2653776 + 144 * i,
    rollingPeriod: 144,
    transmissionRiskLevel: i % 9,
    reportType: 1,
    daysSinceOnsetOfSymptoms: (i % 29) - 14,
  }));
}

/** Runs `fn`, expects a `KeyFileError` whose message matches, and returns it. */
export function expectKeyFileError(
  fn: () => unknown,
  message: RegExp,
  code?: string,
): KeyFileError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, "expected a KeyFileError").toBeInstanceOf(KeyFileError);
  const error = caught as KeyFileError;
  expect(error.message).toMatch(message);
  if (code !== undefined) expect(error.code).toBe(code);
  expect(error.isInputError).toBe(true);
  return error;
}
