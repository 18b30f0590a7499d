/**
 * One check of every string and number option a command declares, run before any handler:
 * yargs lets a repeated option through as an array, a valueless string option as "", a
 * valueless number option as undefined and a non-number as NaN. Each becomes one ConfigError
 * naming the option, instead of a TypeError (or a silently wrong result) deep in a handler.
 */
import { ConfigError } from "../core/errors.js";

/** The part of yargs' getOptions() this check reads. */
export interface DeclaredOptions {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
  string: string[];
  number: string[];
  array: string[];
  default: Record<string, unknown>;
}

function flag(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}

/** The text given for one of `names` in the raw arguments (the first `--name=x` or `--name x`). */
function rawValue(rawArgs: readonly string[], names: readonly string[]): string | undefined {
  for (let i = 0; i < rawArgs.length; i++) {
    const token = rawArgs[i];
    if (token === "--") break;
    for (const name of names) {
      const dashed = flag(name);
      if (token.startsWith(`${dashed}=`)) return token.slice(dashed.length + 1);
      if (token === dashed && i + 1 < rawArgs.length) return rawArgs[i + 1];
    }
  }
  return undefined;
}

/** yargs-parser takes a token as an option's value unless it looks like an option itself. */
function looksLikeValue(token: string | undefined): boolean {
  return token !== undefined && (!token.startsWith("-") || /^-(\d+(\.\d+)?|\.\d+)$/.test(token));
}

/**
 * Whether one of `names` appears in the raw arguments without a value. yargs fills such an
 * option with its default, when it has one, so its value alone does not tell.
 */
function givenWithoutValue(rawArgs: readonly string[], names: readonly string[]): boolean {
  const flags = names.map(flag);
  for (let i = 0; i < rawArgs.length; i++) {
    if (rawArgs[i] === "--") break;
    if (flags.includes(rawArgs[i]) && !looksLikeValue(rawArgs[i + 1])) return true;
  }
  return false;
}

/**
 * How many times one of `names` is given in the raw arguments (`--name x`, `--name=x`, `-n x`).
 * yargs' own array does not tell: a number option given twice with the same value comes out as
 * one number (their sum).
 */
function timesGiven(rawArgs: readonly string[], names: readonly string[]): number {
  const flags = names.map(flag);
  let count = 0;
  for (const token of rawArgs) {
    if (token === "--") break;
    if (flags.some((f) => token === f || token.startsWith(`${f}=`))) count++;
  }
  return count;
}

/**
 * Throws a ConfigError for the first option of `argv` whose value is not what its declaration
 * allows: given more than once (unless declared `array: true`), given without a value, or
 * (number options) not a number.
 */
export function checkOptionValues(
  argv: Record<string, unknown>,
  options: DeclaredOptions,
  rawArgs: readonly string[],
): void {
  if (argv.help === true) return;
  const aliasOf = new Set(Object.values(options.alias ?? {}).flat());
  const arrays = new Set(options.array ?? []);
  const numbers = new Set(options.number ?? []);
  // Aliases share their option's value: each option is checked once, under its own name.
  const names = [...new Set([...(options.string ?? []), ...(options.number ?? [])])].filter(
    (name) => !aliasOf.has(name),
  );
  for (const name of names) {
    if (!Object.hasOwn(argv, name)) continue;
    const value = argv[name];
    const isNumber = numbers.has(name);
    const allNames = [name, ...(options.alias?.[name] ?? [])];
    const what = flag(name);
    if (Object.hasOwn(options.default ?? {}, name) && givenWithoutValue(rawArgs, allNames))
      throw new ConfigError(`${what} needs a value`, "E_OPTION_VALUE");
    if (!arrays.has(name) && (Array.isArray(value) || timesGiven(rawArgs, allNames) > 1)) {
      throw new ConfigError(`${what} was given more than once; give it once`, "E_OPTION_REPEATED");
    }
    // yargs reads an empty number as 0.
    if (isNumber && rawValue(rawArgs, allNames)?.trim() === "")
      throw new ConfigError(`${what} needs a value`, "E_OPTION_VALUE");
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (values.length === 0) throw new ConfigError(`${what} needs a value`, "E_OPTION_VALUE");
    for (const item of values) {
      if (item === undefined || item === "" || typeof item === "boolean")
        throw new ConfigError(`${what} needs a value`, "E_OPTION_VALUE");
      if (isNumber && (typeof item !== "number" || Number.isNaN(item))) {
        const given = rawValue(rawArgs, allNames);
        throw new ConfigError(
          `${what} must be a number, got ${given === undefined ? String(item) : JSON.stringify(given)}`,
          "E_NUMBER",
        );
      }
    }
  }
}
