/**
 * Signed receipts: the collector proves to a checkpoint that it stored a window, so that nobody
 * else on the broker can make a checkpoint delete windows from its outbox.
 *
 * A receipt is `{"ids":[...],"alg":"ed25519"|"hmac-sha256","sig":"<base64>"}` on
 * `proxkit/<site>/<checkpoint>/receipts`. The signature covers
 * `"proxkit-receipt-v1\n" + topic + "\n" + ids.join("\n")`, so a receipt names its checkpoint:
 * replayed to another checkpoint's topic it no longer verifies. (Window ids hold no control
 * characters, which both sides check, so the joined list reads back one way only.)
 *
 * Two kinds of key:
 * - Ed25519 (recommended): the collector signs with its private key; checkpoints hold only the
 *   public key, so a stolen checkpoint cannot forge receipts for the others.
 * - HMAC-SHA256 with a fleet secret (≥ 32 bytes, as base64 or hex text) that the collector and
 *   every checkpoint share: simpler, but anyone holding any checkpoint's copy can forge receipts.
 *
 * Keys are made with `proxkit collect keygen --out PREFIX` or with OpenSSL:
 * `openssl genpkey -algorithm ed25519 -out collector.key` and
 * `openssl pkey -in collector.key -pubout -out collector.pub`; a fleet secret with
 * `openssl rand -base64 32 > fleet.secret`.
 */
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
} from "node:crypto";
import { ConfigError } from "../core/errors.js";
import { readInputFile } from "../io/read-input-file.js";

/** The signature schemes of a receipt's `alg`. */
export const RECEIPT_ALGORITHMS = ["ed25519", "hmac-sha256"] as const;
export type ReceiptAlgorithm = (typeof RECEIPT_ALGORITHMS)[number];

/** The shortest fleet secret accepted, in bytes. */
export const MIN_SECRET_BYTES = 32;
/** Larger receipts are refused unread (500 ids of ≤ 512 characters fit well within). */
export const MAX_RECEIPT_BYTES = 1 << 20;
const DOMAIN = "proxkit-receipt-v1";

/** A receipt key: what signs (collector) or checks (checkpoint) receipts. */
export type ReceiptKey =
  /** The collector's: signs, and can also check its own receipts. */
  | {
      readonly kind: "ed25519-private";
      readonly privateKey: KeyObject;
      readonly publicKey: KeyObject;
      readonly source: string;
    }
  /** A checkpoint's: checks only. */
  | { readonly kind: "ed25519-public"; readonly publicKey: KeyObject; readonly source: string }
  /** The fleet secret: signs and checks. */
  | { readonly kind: "hmac-sha256"; readonly secret: Buffer; readonly source: string };

/** The `alg` a key signs or checks. */
export function receiptAlgorithm(key: ReceiptKey): ReceiptAlgorithm {
  return key.kind === "hmac-sha256" ? "hmac-sha256" : "ed25519";
}

/** True when the key can sign receipts (a collector's key). */
export function canSignReceipts(key: ReceiptKey): boolean {
  return key.kind !== "ed25519-public";
}

/** One line saying what the key is, for logs. */
export function describeReceiptKey(key: ReceiptKey): string {
  switch (key.kind) {
    case "ed25519-private":
      return `Ed25519 private key ${key.source}`;
    case "ed25519-public":
      return `Ed25519 public key ${key.source}`;
    default:
      return `HMAC-SHA256 fleet secret ${key.source}`;
  }
}

const HAS_CONTROL = /\p{Cc}/u;

/** The bytes a receipt's signature covers. */
export function receiptSignedBytes(topic: string, ids: readonly string[]): Buffer {
  return Buffer.from(`${DOMAIN}\n${topic}\n${ids.join("\n")}`, "utf8");
}

/** An HMAC key from the secret's bytes (tests, and `parseReceiptKey`). */
export function hmacReceiptKey(secret: Uint8Array, source = "(in memory)"): ReceiptKey {
  if (secret.length < MIN_SECRET_BYTES)
    throw new ConfigError(
      `the fleet secret ${source} is ${secret.length} bytes; it must be at least ${MIN_SECRET_BYTES} (openssl rand -base64 32)`,
      "E_RECEIPT_KEY",
    );
  return { kind: "hmac-sha256", secret: Buffer.from(secret), source };
}

/** A new Ed25519 key pair: the collector's private key and the checkpoints' public key, as PEM too. */
export function generateReceiptKeyPair(): {
  privateKey: ReceiptKey;
  publicKey: ReceiptKey;
  privatePem: string;
  publicPem: string;
} {
  const pair = generateKeyPairSync("ed25519");
  const privatePem = pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const publicPem = pair.publicKey.export({ type: "spki", format: "pem" }).toString();
  return {
    privateKey: {
      kind: "ed25519-private",
      privateKey: pair.privateKey,
      publicKey: pair.publicKey,
      source: "(generated)",
    },
    publicKey: { kind: "ed25519-public", publicKey: pair.publicKey, source: "(generated)" },
    privatePem,
    publicPem,
  };
}

/** A new fleet secret, as the base64 text a secret file holds. */
export function generateFleetSecret(): string {
  return randomBytes(MIN_SECRET_BYTES).toString("base64");
}

/**
 * Parses the text of a key file: a PEM Ed25519 private key (the collector's), a PEM Ed25519
 * public key (a checkpoint's) or a fleet secret (base64 or hex text of ≥ 32 bytes). `source`
 * names the file in errors.
 */
export function parseReceiptKey(text: string, source: string): ReceiptKey {
  const fail = (why: string): never => {
    throw new ConfigError(`${source}: ${why}`, "E_RECEIPT_KEY");
  };
  const trimmed = text.trim();
  if (trimmed.includes("-----BEGIN")) {
    const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(trimmed)?.[1] ?? "";
    if (label.includes("ENCRYPTED"))
      fail("the private key is encrypted; receipts need an unencrypted Ed25519 key (mode 0600)");
    const isPrivate = label.includes("PRIVATE KEY");
    if (!isPrivate && label !== "PUBLIC KEY")
      fail(
        `a PEM "${label}" is not a receipt key: give an Ed25519 private key (collector) or public key (checkpoint)`,
      );
    let key: KeyObject;
    try {
      key = isPrivate ? createPrivateKey(trimmed) : createPublicKey(trimmed);
    } catch (error) {
      return fail(`not a readable PEM key (${(error as Error).message})`);
    }
    if (key.asymmetricKeyType !== "ed25519")
      fail(
        `is a${key.asymmetricKeyType === "rsa" || key.asymmetricKeyType === "ec" ? "n" : ""} ${key.asymmetricKeyType} key; receipts are signed with Ed25519 (openssl genpkey -algorithm ed25519)`,
      );
    return isPrivate
      ? { kind: "ed25519-private", privateKey: key, publicKey: createPublicKey(key), source }
      : { kind: "ed25519-public", publicKey: key, source };
  }
  let secret: Buffer | undefined;
  if (/^(?:[0-9a-fA-F]{2})+$/.test(trimmed)) secret = Buffer.from(trimmed, "hex");
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) && trimmed.length % 4 !== 1)
    secret = Buffer.from(trimmed, "base64");
  if (secret === undefined)
    return fail(
      "is neither a PEM Ed25519 key nor a fleet secret (base64 or hex text of at least 32 bytes on one line)",
    );
  if (secret.length < MIN_SECRET_BYTES)
    fail(
      `the fleet secret is ${secret.length} bytes; it must be at least ${MIN_SECRET_BYTES} (openssl rand -base64 32)`,
    );
  return { kind: "hmac-sha256", secret, source };
}

/** Reads a key file (size-checked, regular files only); `what` names the option in errors. */
export function loadReceiptKey(path: string, what = "receipt key"): ReceiptKey {
  const text = readInputFile(path, { what, maxBytes: 64 * 1024, code: "E_RECEIPT_KEY" });
  return parseReceiptKey(text, `${what} ${path}`);
}

function check(ids: readonly string[]): void {
  for (const id of ids)
    if (typeof id !== "string" || id === "" || HAS_CONTROL.test(id))
      throw new ConfigError(
        `a receipt cannot name the window id ${JSON.stringify(id)}`,
        "E_RECEIPT",
      );
}

/** The receipt message for `ids` on `topic`, signed; a public key cannot sign (a `ConfigError`). */
export function signReceipt(key: ReceiptKey, topic: string, ids: readonly string[]): string {
  check(ids);
  const data = receiptSignedBytes(topic, ids);
  let sig: Buffer;
  if (key.kind === "hmac-sha256") sig = createHmac("sha256", key.secret).update(data).digest();
  else if (key.kind === "ed25519-private") sig = sign(null, data, key.privateKey);
  else
    throw new ConfigError(
      `${key.source} is a public key: only the collector's private key signs receipts`,
      "E_RECEIPT_KEY",
    );
  return JSON.stringify({ ids, alg: receiptAlgorithm(key), sig: sig.toString("base64") });
}

export type ReceiptCheck =
  | { readonly ok: true; readonly ids: readonly string[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Checks a receipt message received on `topic`: its ids if `key` verifies its signature,
 * otherwise why not (unsigned, another algorithm, a bad signature, malformed).
 */
export function verifyReceipt(key: ReceiptKey, topic: string, payload: Uint8Array): ReceiptCheck {
  if (payload.length > MAX_RECEIPT_BYTES)
    return { ok: false, reason: `a receipt of ${payload.length} bytes is too large` };
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(payload).toString("utf8"));
  } catch {
    return { ok: false, reason: "the receipt is not JSON" };
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    return { ok: false, reason: "the receipt is not a JSON object" };
  const { ids, alg, sig } = doc as { ids?: unknown; alg?: unknown; sig?: unknown };
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string" || HAS_CONTROL.test(id)))
    return { ok: false, reason: 'the receipt has no "ids" list of window ids' };
  if (sig === undefined) return { ok: false, reason: "the receipt is not signed" };
  const expected = receiptAlgorithm(key);
  if (alg !== expected)
    return {
      ok: false,
      reason: `the receipt is signed with ${JSON.stringify(alg)}, not ${expected} as the receipt key requires`,
    };
  if (typeof sig !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(sig))
    return { ok: false, reason: "the receipt's signature is not base64" };
  const signature = Buffer.from(sig, "base64");
  const data = receiptSignedBytes(topic, ids as string[]);
  let good: boolean;
  if (key.kind === "hmac-sha256") {
    const mac = createHmac("sha256", key.secret).update(data).digest();
    good = signature.length === mac.length && timingSafeEqual(signature, mac);
  } else {
    try {
      good = verify(null, data, key.publicKey, signature);
    } catch {
      good = false;
    }
  }
  return good
    ? { ok: true, ids: ids as string[] }
    : {
        ok: false,
        reason: `bad ${expected} signature (a forgery, another fleet's key, or a receipt for another topic)`,
      };
}
