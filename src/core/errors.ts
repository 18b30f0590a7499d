/** The error classes every layer throws, from one root. */
import { type LibraryOption, OptionText } from "./option-text.js";

/**
 * Typed errors from one root. Every error carries a stable `code`; `isInputError`
 * tells the CLI whether the user gave bad input (exit 2) or something else failed (exit 1);
 * `options` names the library options the message tells the user to set, and `text` says where,
 * so that the CLI can name its flags instead (option-text.ts).
 */
export class ProxkitError extends Error {
  readonly code: string;
  /** True when the cause is bad input (bytes, keys, files, options) rather than a failure. */
  readonly isInputError: boolean;
  /** The message as built: its words, and the library options it names where it names them. */
  readonly text: OptionText;

  constructor(
    code: string,
    message: string | OptionText,
    options?: { cause?: unknown; isInputError?: boolean },
  ) {
    const text = typeof message === "string" ? new OptionText([message]) : message;
    super(String(text), options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.isInputError = options?.isInputError ?? true;
    this.text = text;
  }

  /** The library options the message names ("allowStaticAddress", "deviceId"); [] for none. */
  get options(): readonly LibraryOption[] {
    return this.text.options;
  }
}

/**
 * What `error` says, with the options it names: a `ProxkitError`'s `text` while its message is
 * still that text, else (another error, or a message a caller has changed since) the message.
 */
export function errorText(error: unknown): OptionText {
  if (error instanceof ProxkitError && error.message === String(error.text)) return error.text;
  return new OptionText([error instanceof Error ? error.message : String(error)]);
}

/** Malformed bytes: advertising data, payloads, hex. `offset` is the byte offset at fault. */
export class CodecError extends ProxkitError {
  readonly offset: number | undefined;

  constructor(message: string, offset?: number, code = "E_CODEC") {
    super(code, offset === undefined ? message : `${message} (at byte offset ${offset})`);
    this.offset = offset;
  }
}

/** A key, key store or diagnosis-key file that is missing, malformed or of the wrong length. */
export class KeyFileError extends ProxkitError {
  constructor(message: string | OptionText, code = "E_KEY", options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** An option, argument or configuration value that makes no sense. */
export class ConfigError extends ProxkitError {
  constructor(message: string | OptionText, code = "E_CONFIG") {
    super(code, message);
  }
}

/** A radio back-end failed: missing library, no adapter, no permission. */
export class RadioError extends ProxkitError {
  constructor(
    message: string | OptionText,
    code = "E_RADIO",
    options?: { cause?: unknown; isInputError?: boolean },
  ) {
    super(code, message, { isInputError: false, ...options });
  }
}

/** Persistent storage failed (file system, database). */
export class StoreError extends ProxkitError {
  constructor(message: string | OptionText, code = "E_STORE", options?: { cause?: unknown }) {
    super(code, message, { isInputError: false, ...options });
  }
}
