/**
 * The README and docs/ as a newcomer meets them (issue 14): a short README, links that resolve
 * in a fresh clone, and no source comment that points outside the repository.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/dist.js";

const read = (file: string) => readFileSync(join(REPO_ROOT, file), "utf8");

/** The Markdown pages: the README and every page under docs/ (the generated API left out). */
function pages(): string[] {
  const docs = readdirSync(join(REPO_ROOT, "docs"), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".md"))
    .map((e) => relative(REPO_ROOT, join(e.parentPath, e.name)))
    .filter((f) => !f.startsWith("docs/api/"));
  return ["README.md", ...docs].sort();
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of read(file).split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const m = !fenced && /^#{1,6} (.+)$/.exec(line);
    if (!m) continue;
    const base = anchor(m[1] ?? "");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

describe("README and docs/", () => {
  it("the README stays short and keeps the two-command quick start", () => {
    const readme = read("README.md");
    expect(readme.split("\n").length).toBeLessThanOrEqual(200);
    expect(readme).toContain("npm install && npm start\nnpm test\n");
  });

  it("every relative link of every page resolves, anchors included", () => {
    const broken: string[] = [];
    for (const page of pages()) {
      const text = read(page).replace(/```[\s\S]*?```/g, "");
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (!target || /^[a-z]+:/i.test(target)) continue;
        const [path, hash] = target.split("#");
        const file = path ? join(dirname(page), path) : page;
        if (!existsSync(join(REPO_ROOT, file))) {
          broken.push(`${page}: ${target} (no such file)`);
          continue;
        }
        if (hash && file.endsWith(".md") && !anchorsOf(file).has(hash))
          broken.push(`${page}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("no source, test or script cites a spec file outside the repository", () => {
    const outside = /shared\/spec|PROTOCOLS\.md|DESIGN\.md|STYLE\.md/;
    const hits: string[] = [];
    for (const folder of ["src", "sim", "research", "scripts", "test", "examples"]) {
      const dir = join(REPO_ROOT, folder);
      if (!existsSync(dir)) continue;
      for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
        if (!e.isFile() || !/\.(ts|json)$/.test(e.name)) continue;
        const file = join(e.parentPath, e.name);
        if (file === import.meta.filename) continue;
        if (outside.test(readFileSync(file, "utf8"))) hits.push(relative(REPO_ROOT, file));
      }
    }
    expect(hits).toEqual([]);
  });
});
