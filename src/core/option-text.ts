/**
 * Messages that name the library's own options ("set allowStaticAddress", "use the sim radio"),
 * with each option kept as data beside the words: which option, and the value the message gives
 * it. The library's message is the plain text; a front end says the same options its own way
 * from the data (the CLI says `pass --allow-static-address`, src/cli/option-names.ts), never by
 * reading the words.
 */

/**
 * The options a library message can name, by their keys in the library's option objects (one
 * key, one meaning): the back-end name `openRadio` takes, `HciRadioOptions`' `deviceId` and
 * `allowStaticAddress`, `AdvertiserOptions`' `intervalMs`, `AdoptionReportOptions`, the login
 * and TLS material of `MqttConnectionOptions`, and the size limit of the key-file reader.
 */
export type LibraryOption =
  | "radio"
  | "deviceId"
  | "allowStaticAddress"
  | "intervalMs"
  | "fromMs"
  | "toMs"
  | "per"
  | "ca"
  | "cert"
  | "key"
  | "username"
  | "password"
  | "maxBytes";

/** Where a message names library options, and how. */
export interface OptionMention {
  /** The options it names: mostly one; several are said together ("fromMs/toMs"). */
  readonly options: readonly LibraryOption[];
  /** The value it gives them: text ("sim", "250", "N"), or true to switch a boolean on. */
  readonly value?: string | true;
  /** Whether it asks for the value in a file ("a password file"). */
  readonly inFile?: boolean;
  /** The library's words, as they stand in the message: "the sim radio", "deviceId 0". */
  readonly text: string;
}

/**
 * Names `options` in a message. The words are the keys unless `text` says otherwise: "deviceId
 * 0" with a value, "set allowStaticAddress" for a switch, "fromMs/toMs" for several.
 */
export function mention(
  options: LibraryOption | readonly LibraryOption[],
  how: { value?: string | true; inFile?: boolean; text?: string } = {},
): OptionMention {
  const named = typeof options === "string" ? [options] : options;
  const keys = named.join("/");
  const { value, inFile } = how;
  const text =
    how.text ?? (value === true ? `set ${keys}` : value === undefined ? keys : `${keys} ${value}`);
  return {
    options: named,
    ...(value === undefined ? {} : { value }),
    ...(inFile ? { inFile } : {}),
    text,
  };
}

/** A message as text and the options it names, in order. */
export class OptionText {
  readonly parts: readonly (string | OptionMention)[];

  constructor(parts: readonly (string | OptionMention)[]) {
    this.parts = parts;
  }

  /** The options the message names, each once, in order. */
  get options(): LibraryOption[] {
    return [...new Set(this.parts.flatMap((p) => (typeof p === "string" ? [] : p.options)))];
  }

  /** The message with each mention said by `say`. */
  render(say: (mention: OptionMention) => string): string {
    return this.parts.map((p) => (typeof p === "string" ? p : say(p))).join("");
  }

  /** The message in the library's words. */
  toString(): string {
    return this.render((m) => m.text);
  }
}

/**
 * A message from a template: `` optionText`... or use ${mention("radio", { value: "sim", text:
 * "the sim radio" })}` ``. Strings and numbers go in as text, an `OptionText` with its mentions.
 */
export function optionText(
  strings: TemplateStringsArray,
  ...values: readonly (string | number | OptionMention | OptionText)[]
): OptionText {
  const parts: (string | OptionMention)[] = [];
  const add = (part: string | OptionMention) => {
    const last = parts.length - 1;
    if (typeof part === "string" && typeof parts[last] === "string") parts[last] += part;
    else if (part !== "") parts.push(part);
  };
  strings.forEach((text, i) => {
    add(text);
    if (i === values.length) return;
    const value = values[i];
    if (value instanceof OptionText) for (const part of value.parts) add(part);
    else add(typeof value === "object" ? value : String(value));
  });
  return new OptionText(parts);
}
