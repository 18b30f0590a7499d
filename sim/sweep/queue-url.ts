/**
 * The queue's Redis URL, checked without loading the queue client: a mistyped URL fails before
 * BullMQ and ioredis are even imported.
 */
import { ConfigError } from "../../src/core/errors.js";

/** A `redis://` or `rediss://` URL checked; `ConfigError` (exit 2) for anything else. */
export function parseQueueUrl(text: string, what = "--queue"): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(
      `${what} must be a Redis URL like redis://HOST:6379, got ${JSON.stringify(text)}`,
      "E_QUEUE",
    );
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:")
    throw new ConfigError(
      `${what} must start with redis:// (or rediss:// for TLS), got ${JSON.stringify(text)}`,
      "E_QUEUE",
    );
  if (url.hostname === "")
    throw new ConfigError(`${what} names no host: ${JSON.stringify(text)}`, "E_QUEUE");
  if (url.pathname !== "" && url.pathname !== "/" && !/^\/\d{1,2}$/.test(url.pathname))
    throw new ConfigError(
      `${what}: the path must be a database number like /0, got ${JSON.stringify(url.pathname)}`,
      "E_QUEUE",
    );
  return url;
}

/** The URL without its password, for messages. */
export function shownUrl(url: URL): string {
  return `${url.protocol}//${url.hostname}:${url.port || "6379"}${url.pathname === "/" ? "" : url.pathname}`;
}
