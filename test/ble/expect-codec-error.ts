import { expect } from "vitest";
import { CodecError } from "../../src/core/errors.js";

/** Runs `fn`, expects a `CodecError` at `offset` (or none), and returns it. */
export function expectCodecError(
  fn: () => unknown,
  offset: number | undefined,
  message?: RegExp,
): CodecError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CodecError);
  const error = caught as CodecError;
  expect(error.offset).toBe(offset);
  if (offset !== undefined) expect(error.message).toContain(`(at byte offset ${offset})`);
  if (message) expect(error.message).toMatch(message);
  return error;
}
