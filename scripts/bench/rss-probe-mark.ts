/** The start of the stderr line on which `rss-probe.ts` reports a command's peak RSS, MB. */
export const RSS_PROBE_MARK = "proxkit-bench-peak-rss-mb";

/** Every peak RSS, MB, that probed processes reported on `stderr` (one per process, in order). */
export function probedPeaksMb(stderr: string): number[] {
  return stderr
    .split("\n")
    .filter((line) => line.startsWith(RSS_PROBE_MARK))
    .map((line) => Number(line.split(" ")[1]));
}
