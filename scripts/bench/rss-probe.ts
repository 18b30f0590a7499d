/**
 * Preloaded (`node --import`) into a command the bench runs as a user would: at exit it writes
 * the process's peak resident memory on stderr, on a line of its own the bench looks for.
 */
import { writeSync } from "node:fs";
import { RSS_PROBE_MARK } from "./rss-probe-mark.js";

process.on("exit", () => {
  // resourceUsage().maxRSS is in kilobytes.
  writeSync(2, `\n${RSS_PROBE_MARK} ${Math.round(process.resourceUsage().maxRSS / 102.4) / 10}\n`);
});
