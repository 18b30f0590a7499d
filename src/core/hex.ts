import { CodecError } from "./errors.js";

const HEX_DIGITS = "0123456789abcdef";
const BYTE_TO_HEX: string[] = Array.from(
  { length: 256 },
  (_, b) => HEX_DIGITS[b >> 4] + HEX_DIGITS[b & 15],
);

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_HEX[bytes[i]];
  return out;
}

function nibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/**
 * Parses hex (either case; an optional `0x` prefix, spaces and colons are tolerated).
 * Throws a `CodecError` naming `what` and the offending character, or the length when
 * `expectedBytes` is given and does not match.
 */
export function fromHex(text: string, what = "hex", expectedBytes?: number): Uint8Array {
  let s = text.trim();
  if (s.startsWith("0x") || s.startsWith("0X")) s = s.slice(2);
  s = s.replace(/[\s:]/g, "");
  for (let i = 0; i < s.length; i++) {
    if (nibble(s.charCodeAt(i)) < 0) {
      throw new CodecError(
        `${what} is not hex: unexpected character ${JSON.stringify(s[i])} at position ${i}`,
        undefined,
        "E_HEX",
      );
    }
  }
  if (s.length % 2 !== 0) {
    throw new CodecError(
      `${what} has an odd number of hex digits (${s.length})`,
      undefined,
      "E_HEX",
    );
  }
  const bytes = new Uint8Array(s.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = (nibble(s.charCodeAt(2 * i)) << 4) | nibble(s.charCodeAt(2 * i + 1));
  }
  if (expectedBytes !== undefined && bytes.length !== expectedBytes) {
    throw new CodecError(
      `${what} must be ${expectedBytes} bytes (${expectedBytes * 2} hex digits), got ${bytes.length} bytes`,
      undefined,
      "E_LENGTH",
    );
  }
  return bytes;
}

/** True when `a` and `b` hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
