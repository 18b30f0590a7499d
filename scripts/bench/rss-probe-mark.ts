/** The start of the stderr line on which `rss-probe.ts` reports a command's peak RSS, MB. */
export const RSS_PROBE_MARK = "proxkit-bench-peak-rss-mb";
