/**
 * Random non-resolvable private addresses (NRPA), Core spec Vol 6 Part B §1.3.2.2: the two most
 * significant bits are 0b00, and the other 46 bits are random but neither all zeros nor all ones.
 * Addresses here are 6 bytes, most significant byte first, as printed.
 */
import { CodecError, ProxkitError } from "../core/errors.js";
import type { Random } from "../core/random.js";

export const ADDRESS_BYTES = 6;
/** Redraws before we blame the random source (each redraw happens with probability 2^-45). */
const MAX_DRAWS = 64;

/** True when the 46 random bits of `address` are all zeros or all ones. */
function hasDegenerateRandomPart(address: Uint8Array): boolean {
  const top = address[0] & 0x3f;
  if (top !== 0 && top !== 0x3f) return false;
  const fill = top === 0 ? 0 : 0xff;
  for (let i = 1; i < ADDRESS_BYTES; i++) if (address[i] !== fill) return false;
  return true;
}

/** A fresh NRPA from `random`: top two bits 00, the rest random, redrawn if all zeros or ones. */
export function randomNonResolvableAddress(random: Random): Uint8Array {
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    const address = random.bytes(ADDRESS_BYTES);
    address[0] &= 0x3f;
    if (!hasDegenerateRandomPart(address)) return address;
  }
  throw new ProxkitError(
    "E_RANDOM",
    `the random source gave ${MAX_DRAWS} all-zero or all-one addresses in a row; it is broken`,
    { isInputError: false },
  );
}

/** True when `address` (6 bytes, MSB first) is a valid non-resolvable private address. */
export function isNonResolvablePrivateAddress(address: Uint8Array): boolean {
  return (
    address.length === ADDRESS_BYTES &&
    (address[0] & 0xc0) === 0 &&
    !hasDegenerateRandomPart(address)
  );
}

/** `address` (6 bytes, MSB first) as "1a:2b:3c:4d:5e:6f". */
export function formatAddress(address: Uint8Array): string {
  if (address.length !== ADDRESS_BYTES) {
    throw new CodecError(
      `a Bluetooth address is ${ADDRESS_BYTES} bytes, got ${address.length}`,
      undefined,
      "E_LENGTH",
    );
  }
  let s = "";
  for (let i = 0; i < ADDRESS_BYTES; i++) {
    if (i > 0) s += ":";
    s += address[i].toString(16).padStart(2, "0");
  }
  return s;
}
