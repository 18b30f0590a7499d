/**
 * Typed errors from one root. Every error carries a stable `code`; `isInputError`
 * tells the CLI whether the user gave bad input (exit 2) or something else failed (exit 1).
 */
export class ProxkitError extends Error {
  readonly code: string;
  /** True when the cause is bad input (bytes, keys, files, options) rather than a failure. */
  readonly isInputError: boolean;

  constructor(
    code: string,
    message: string,
    options?: { cause?: unknown; isInputError?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.isInputError = options?.isInputError ?? true;
  }
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
  constructor(message: string, code = "E_KEY", options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** An option, argument or configuration value that makes no sense. */
export class ConfigError extends ProxkitError {
  constructor(message: string, code = "E_CONFIG") {
    super(code, message);
  }
}

/** A radio back-end failed: missing library, no adapter, no permission. */
export class RadioError extends ProxkitError {
  constructor(
    message: string,
    code = "E_RADIO",
    options?: { cause?: unknown; isInputError?: boolean },
  ) {
    super(code, message, { isInputError: false, ...options });
  }
}

/** Persistent storage failed (file system, database). */
export class StoreError extends ProxkitError {
  constructor(message: string, code = "E_STORE", options?: { cause?: unknown }) {
    super(code, message, { isInputError: false, ...options });
  }
}
