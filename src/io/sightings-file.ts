/** Reads sightings from a JSON-lines file, streaming, with line-numbered errors. */
import { parseSighting, type Sighting } from "../signal/sighting.js";
import { readInputLines } from "./read-input-file.js";

/**
 * Reads every sighting of `path` (blank lines and lines starting with # are skipped). The file
 * is streamed with no total cap; a line over 1 MB (a sighting is ~200 bytes) is a `ConfigError`.
 */
export async function readSightingsFile(path: string): Promise<Sighting[]> {
  const sightings: Sighting[] = [];
  let lineNumber = 0;
  for await (const line of readInputLines(path, { what: "sightings file" })) {
    lineNumber++;
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    sightings.push(parseSighting(trimmed, `${path} line ${lineNumber}`));
  }
  return sightings;
}
