/**
 * A `RunPool` child: runs the entries its parent sends, one at a time, and answers with their
 * rows. It leaves when its parent does, so a killed worker leaves no computing orphans behind
 * (beyond the run in progress, which cannot notice until it ends).
 */
import { runEntry } from "./run-entry.js";
import type { RunReply, RunRequest } from "./run-pool.js";

process.on("disconnect", () => process.exit(0));
process.on("message", (request: RunRequest) => {
  void runEntry(request.entry, request.dir, request.options).then(
    (rows) => reply({ rows }),
    (error: unknown) => reply({ error: error instanceof Error ? error.message : String(error) }),
  );
});

function reply(message: RunReply): void {
  if (process.connected) process.send?.(message);
}
