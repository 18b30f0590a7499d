/**
 * The layer arrows of the code, checked on every `.ts` file under src/, sim/, scripts/ and
 * research/ (folders not there yet are skipped over). docs/design.md ("Folders and what each may
 * import", "Known exceptions") is the source: this table reads like that page, and a change to
 * one is a change to both.
 *
 * An import is any `import`/`export … from`, `import type` and `import()` with a literal
 * specifier, found with TypeScript's own parser. Type-only imports count as arrows too: they are
 * what ties one folder's types to another's.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/dist.js";

// ------------------------------------------------------------------ the rules (docs/design.md)

/** The core: pure functions and small classes; time, randomness and crypto come as arguments. */
const CORE = ["src/core", "src/ble", "src/protocols", "src/signal", "src/exposure"] as const;

/** Every folder, and the project folders it may import besides itself ("*": any). */
const MAY_IMPORT: Record<string, readonly string[] | "*"> = {
  "src/core": [],
  "src/ble": ["src/core"],
  "src/protocols": ["src/core", "src/ble"],
  "src/signal": ["src/core", "src/ble", "src/protocols"],
  "src/exposure": ["src/core", "src/ble", "src/protocols", "src/signal"],
  "src/io": [...CORE],
  "src/radio": [...CORE, "src/io"],
  "src/campaigns": [...CORE, "src/io", "src/radio"],
  "src/checkpoint": [...CORE, "src/io", "src/radio"],
  "src/cli": "*",
  "src/index.ts": [...CORE, "src/io", "src/radio"],
  sim: [...CORE, "src/io", "src/campaigns", "src/radio"],
  scripts: "*",
  // The evaluations and fits of real campaigns: anything but the CLI.
  research: [...CORE, "src/io", "src/radio", "src/campaigns", "src/checkpoint", "sim", "scripts"],
};

/** Node modules that do IO: the core takes what they give as arguments instead. */
const IO_MODULES = new Set(
  [
    "fs",
    "fs/promises",
    "net",
    "dgram",
    "http",
    "https",
    "http2",
    "tls",
    "child_process",
    "worker_threads",
    "cluster",
    "readline",
    "os",
  ].flatMap((m) => [m, `node:${m}`]),
);

/** The Bluetooth libraries: optional, so only `import type` statically, loaded by `import()`. */
const BLE_LIBRARY = /^@(stoprocent|abandonware)\//;

/**
 * Arrows that break the table on purpose, by file (docs/design.md, "Known exceptions"). An entry
 * whose file no longer breaks the rule, or is gone, fails the test: take it out.
 */
const EXCEPTIONS: readonly { file: string; imports: string; why: string }[] = [
  {
    file: "src/signal/calibration-table.ts",
    imports: "src/io",
    why: "reads the calibration CSV through readInputFile's bounded read",
  },
  {
    file: "src/radio/radio-backends.ts",
    imports: "sim",
    why: "the sim back-end's crowd scenario (sim/engine/world-radio.ts): loaded by import() when opened, its options' type otherwise",
  },
  {
    file: "src/checkpoint/run-checkpoint.ts",
    imports: "sim",
    why: "types only: the crowd scenario a simulated checkpoint runs, and the radio the registry opens for it",
  },
];

// ------------------------------------------------------------------ reading the imports

const SOURCE_FOLDERS = ["src", "sim", "scripts", "research"];

interface Import {
  /** The importing file, from the repository root. */
  readonly file: string;
  readonly specifier: string;
  readonly typeOnly: boolean;
  readonly dynamic: boolean;
}

function tsFiles(folder: string): string[] {
  const dir = join(REPO_ROOT, folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => relative(REPO_ROOT, join(e.parentPath, e.name)))
    .sort();
}

/** Every import of one file's text. */
function importsOf(file: string, text: string): Import[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: Import[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      out.push({
        file,
        specifier: node.moduleSpecifier.text,
        typeOnly: node.importClause?.isTypeOnly === true,
        dynamic: false,
      });
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier !== undefined &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      out.push({
        file,
        specifier: node.moduleSpecifier.text,
        typeOnly: node.isTypeOnly,
        dynamic: false,
      });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments.length > 0 &&
      ts.isStringLiteralLike(node.arguments[0]!)
    ) {
      out.push({
        file,
        specifier: (node.arguments[0] as ts.StringLiteralLike).text,
        typeOnly: false,
        dynamic: true,
      });
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      // `import("x").T` in a type position.
      out.push({ file, specifier: node.argument.literal.text, typeOnly: true, dynamic: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** The folder a repository path belongs to, as the table names it. */
function folderOf(path: string): string {
  const parts = path.split("/");
  if (parts[0] === "src") return parts.length === 2 ? path : `src/${parts[1]}`;
  return parts[0]!;
}

/** The project path a relative specifier names, from the repository root. */
function target(imp: Import): string {
  return normalize(join(dirname(imp.file), imp.specifier));
}

const files = SOURCE_FOLDERS.flatMap(tsFiles);
const imports = files.flatMap((f) => importsOf(f, readFileSync(join(REPO_ROOT, f), "utf8")));
const relativeImports = imports.filter((i) => i.specifier.startsWith("."));

function excepted(file: string, imports: string): boolean {
  return EXCEPTIONS.some((e) => e.file === file && e.imports === imports);
}

/** What breaks the table, one line an import ("file -> folder"), with no exception for it. */
function arrowsBroken(): string[] {
  const broken: string[] = [];
  for (const imp of relativeImports) {
    const from = folderOf(imp.file);
    const to = folderOf(target(imp));
    const allowed = MAY_IMPORT[from];
    if (from === to || allowed === "*") continue;
    if (allowed === undefined) {
      broken.push(`${imp.file}: its folder ${from} is not in the table`);
      continue;
    }
    // Not a project folder (package.json at the root, say): not an arrow between layers.
    if (!(to in MAY_IMPORT)) continue;
    if (!allowed.includes(to) && !excepted(imp.file, to))
      broken.push(`${imp.file} -> ${to} (${imp.specifier})`);
  }
  return [...new Set(broken)].sort();
}

// ------------------------------------------------------------------ the tests

describe("import rules (docs/design.md)", () => {
  it("reads the imports of every source file", () => {
    expect(files.length).toBeGreaterThan(200);
    // Known arrows, so that a parser that finds nothing cannot pass.
    const edges = new Set(
      relativeImports.map((i) => `${folderOf(i.file)} -> ${folderOf(target(i))}`),
    );
    expect(edges).toContain("src/cli -> sim");
    expect(edges).toContain("src/radio -> src/core");
    expect(imports.some((i) => i.dynamic && i.file.startsWith("src/cli/"))).toBe(true);
    expect(imports.some((i) => i.typeOnly && i.file.startsWith("src/radio/"))).toBe(true);
  });

  it("the parser sees import type, export from, import() and import types", () => {
    const found = importsOf(
      "src/x/a.ts",
      `import type { A } from "./a.js";
       import { type B, c } from "../b.js";
       export { d } from "./d.js";
       export type { E } from "./e.js";
       const f = await import("./f.js");
       let g: import("./g.js").G;`,
    ).map((i) => `${i.specifier} ${i.typeOnly ? "type" : "value"}${i.dynamic ? " dynamic" : ""}`);
    expect(found).toEqual([
      "./a.js type",
      "../b.js value",
      "./d.js value",
      "./e.js type",
      "./f.js value dynamic",
      "./g.js type",
    ]);
  });

  it("every folder imports only the folders the table allows", () => {
    expect(arrowsBroken()).toEqual([]);
  });

  it("the core never imports src/radio, src/checkpoint, src/cli, src/campaigns or sim/", () => {
    // Implied by the table; said again because it is the arrow that matters most.
    const edge = (i: Import) => `${folderOf(i.file)} -> ${folderOf(target(i))}`;
    const outward = relativeImports.filter(
      (i) =>
        (CORE as readonly string[]).includes(folderOf(i.file)) &&
        ["src/radio", "src/checkpoint", "src/cli", "src/campaigns", "sim"].includes(
          folderOf(target(i)),
        ),
    );
    expect(outward.map((i) => `${i.file}: ${edge(i)}`)).toEqual([]);
  });

  it("nothing outside src/cli and scripts/ imports src/cli", () => {
    const cli = relativeImports.filter(
      (i) =>
        folderOf(target(i)) === "src/cli" && !["src/cli", "scripts"].includes(folderOf(i.file)),
    );
    expect(cli.map((i) => `${i.file} -> ${i.specifier}`)).toEqual([]);
  });

  it("the core does no IO: no node:fs, node:net, node:child_process and the like", () => {
    const io = imports.filter(
      (i) =>
        (CORE as readonly string[]).includes(folderOf(i.file)) &&
        IO_MODULES.has(i.specifier) &&
        !excepted(i.file, i.specifier.startsWith("node:") ? i.specifier : `node:${i.specifier}`),
    );
    expect(io.map((i) => `${i.file} -> ${i.specifier}`)).toEqual([]);
  });

  it("noble and bleno: only in src/radio, only as import type (loaded by import() when used)", () => {
    const eager = imports.filter(
      (i) =>
        BLE_LIBRARY.test(i.specifier) &&
        !i.dynamic &&
        (!i.typeOnly || folderOf(i.file) !== "src/radio"),
    );
    expect(eager.map((i) => `${i.file} -> ${i.specifier}`)).toEqual([]);
  });

  it("every exception is still needed (take it out once the code keeps the rule)", () => {
    const stale = EXCEPTIONS.filter((e) => {
      const own = imports.filter((i) => i.file === e.file);
      return !own.some((i) =>
        e.imports.startsWith("node:")
          ? i.specifier === e.imports || `node:${i.specifier}` === e.imports
          : i.specifier.startsWith(".") && folderOf(target(i)) === e.imports,
      );
    });
    expect(stale.map((e) => `${e.file} -> ${e.imports}: ${e.why}`)).toEqual([]);
  });
});
