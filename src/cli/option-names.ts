/**
 * Library errors name what went wrong (a file, a value), never a command-line flag; the CLI
 * puts its flag back in front of the value so the user sees which option to fix.
 */
import { ProxkitError } from "../core/errors.js";

/**
 * When `error` is a proxkit error whose message mentions `value` but not `flag`, names the
 * option: "another daemon is writing to day.sqlite" becomes "... writing to --db day.sqlite".
 * Returns the error (the same object) for `throw nameOption(...)`.
 */
export function nameOption(error: unknown, value: string, flag: string): unknown {
  if (!(error instanceof ProxkitError) || value === "" || error.message.includes(flag))
    return error;
  const at = error.message.indexOf(value);
  if (at < 0) return error;
  error.message = `${error.message.slice(0, at)}${flag} ${error.message.slice(at)}`;
  return error;
}

/**
 * The library's words for its own options, as the CLI's flags: a radio library error says
 * "use the sim radio" or "set allowStaticAddress", the user reads "use --radio sim" or "pass
 * --allow-static-address".
 */
const LIBRARY_WORDS: readonly [RegExp, string][] = [
  [/\buse the (hci|sim|replay) radio\b/g, "use --radio $1"],
  [/\bdeviceId (\d+|N)\b/g, "--hci $1"],
  [/\bset allowStaticAddress\b/g, "pass --allow-static-address"],
  [/\btry intervalMs (\d+)\b/g, "try --interval $1"],
  // The adoption report.
  [/\ba narrower period \(fromMs, toMs\)( or per day)?/g, "a narrower --from/--to$1"],
  [/ or per day \(windows far/g, " or --per day (windows far"],
  // MQTT connections (the CLI checks these before the library does).
  [/\bTLS material \(ca, cert, key\) needs\b/g, "--ca, --cert and --key need"],
  [/\bboth cert \(the certificate\) and key \(/g, "both --cert (the certificate) and --key ("],
  [/\(username, or PROXKIT_MQTT_USERNAME\)/g, "(--mqtt-username or PROXKIT_MQTT_USERNAME)"],
  [
    /\bput it in a password file \(mode 0600\)/g,
    "put it in a file for --mqtt-password-file (mode 0600)",
  ],
  [
    /\bwith a CA certificate, a user name and a password file\b/g,
    "with --ca and --mqtt-username/--mqtt-password-file",
  ],
  // Key files.
  [/\braise the limit \(maxMb\)/g, "raise the limit with --max-mb"],
];

/** A library message in the CLI's words (see `LIBRARY_WORDS`). */
export function withFlags(message: string): string {
  let text = message;
  for (const [pattern, flag] of LIBRARY_WORDS) text = text.replace(pattern, flag);
  return text;
}
