/** Reads sightings from a JSON-lines file, streaming, with line-numbered errors. */
import { createReadStream, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { ConfigError } from "../core/errors.js";
import { parseSighting, type Sighting } from "../signal/sighting.js";

/** Reads every sighting of `path` (blank lines and lines starting with # are skipped). */
export async function readSightingsFile(path: string): Promise<Sighting[]> {
  try {
    if (!statSync(path).isFile()) throw new ConfigError(`${path} is not a file`, "E_PATH");
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`sightings file ${path} does not exist or cannot be read`, "E_PATH");
  }
  const sightings: Sighting[] = [];
  const lines = createInterface({
    input: createReadStream(path, "utf8"),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    sightings.push(parseSighting(trimmed, `${path} line ${lineNumber}`));
  }
  return sightings;
}
