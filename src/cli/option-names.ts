/**
 * Library messages name the library's options ("set allowStaticAddress") and the values given
 * to it (a file), never a command-line flag; the CLI says its flags instead. The options a
 * message names come as data (`OptionText`, src/core/option-text.ts): each is said here from
 * `OPTION_FLAGS`, by rule, without reading the library's words.
 */
import { errorText, ProxkitError } from "../core/errors.js";
import type { LibraryOption, OptionMention, OptionText } from "../core/option-text.js";

/**
 * The CLI's flag for each library option a message can name; a new option fails to compile
 * until it is here.
 */
export const OPTION_FLAGS: Readonly<Record<LibraryOption, `--${string}`>> = {
  radio: "--radio",
  deviceId: "--hci",
  allowStaticAddress: "--allow-static-address",
  intervalMs: "--interval",
  fromMs: "--from",
  toMs: "--to",
  per: "--per",
  ca: "--ca",
  cert: "--cert",
  key: "--key",
  username: "--mqtt-username",
  password: "--mqtt-password-file",
  maxBytes: "--max-mb",
};

/**
 * A mention as the CLI says it: "--radio sim" (a value), "pass --allow-static-address" (a
 * switch), "--from/--to" (several), "a file for --mqtt-password-file" (a value in a file).
 */
export function flagsFor(mention: OptionMention): string {
  const flags = mention.options.map((option) => OPTION_FLAGS[option]).join("/");
  if (mention.value === true) return `pass ${flags}`;
  if (mention.value !== undefined) return `${flags} ${mention.value}`;
  return mention.inFile ? `a file for ${flags}` : flags;
}

/** A library message (an error's, a warning) in the CLI's words. */
export function inFlags(message: string | OptionText): string {
  return typeof message === "string" ? message : message.render(flagsFor);
}

/** What `error` says, in the CLI's words. */
export function errorInFlags(error: unknown): string {
  return inFlags(errorText(error));
}

/**
 * When `error` is a proxkit error whose message mentions `value` but not `flag`, names the
 * option: "another daemon is writing to day.sqlite" becomes "... writing to --db day.sqlite".
 * The value is the CLI's own (the file it passed), so the message is searched for it; the
 * message is then in the CLI's words. Returns the error (the same object) for `throw
 * nameOption(...)`.
 */
export function nameOption(error: unknown, value: string, flag: string): unknown {
  if (!(error instanceof ProxkitError) || value === "") return error;
  const message = errorInFlags(error);
  const at = message.indexOf(value);
  if (at < 0 || message.includes(flag)) return error;
  error.message = `${message.slice(0, at)}${flag} ${message.slice(at)}`;
  return error;
}
