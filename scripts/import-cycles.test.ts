import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize, resolve } from "node:path";

/**
 * No module imports another that imports it back, directly or through others: a cycle makes
 * the order of evaluation an accident and the layers impossible to read. Type-only imports
 * count too (the transpiler's own scan drops them), since they tie the files' meaning together
 * all the same. Test files are left out: nothing imports them.
 */

const root = resolve(import.meta.dir, "..");
const SKIP = /(^|\/)(node_modules|\.data|logs|test-artifacts|\.git)(\/|$)/;
// `import … from "x"`, `export … from "x"`, `import "x"` and `import("x")`, over several lines.
const SPECIFIER = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

function sourceFiles(): string[] {
  return [...new Bun.Glob("**/*.ts").scanSync({ cwd: root, dot: false })]
    .filter((file) => !SKIP.test(file) && !file.endsWith(".test.ts") && !file.endsWith(".d.ts"))
    .sort();
}

/** The files of this repo that `file` imports. */
export function localImports(file: string, text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(SPECIFIER)) {
    const spec = (match[1] ?? match[2])!;
    if (!spec.startsWith(".")) continue;
    const base = normalize(join(dirname(file), spec));
    const hit = [base, `${base}.ts`, `${base}/index.ts`].find((candidate) => candidate.endsWith(".ts") && existsSync(join(root, candidate)));
    if (hit) found.push(hit);
  }
  return found;
}

/** Every cycle's files, found as the strongly connected components of the graph (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    for (let top = stack.pop()!; ; top = stack.pop()!) {
      onStack.delete(top);
      component.push(top);
      if (top === node) break;
    }
    if (component.length > 1 || graph.get(node)?.includes(node)) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

test("the scan sees every kind of import, type-only ones included", () => {
  const text = `import type { A } from "./refusals";\nimport {\n  b,\n  type C,\n} from "./errors";\nexport * from "./route";\nimport "./limits";\nconst d = await import("./docs");`;
  expect(localImports("common/x.ts", text).sort()).toEqual(["common/docs.ts", "common/errors.ts", "common/limits.ts", "common/refusals.ts", "common/route.ts"]);
});

test("finds a cycle when there is one", () => {
  const graph = new Map([
    ["a", ["b"]],
    ["b", ["c"]],
    ["c", ["a"]],
    ["d", ["a"]],
  ]);
  expect(cycles(graph)).toEqual([["a", "b", "c"]]);
});

test("no file of the repo imports another that imports it back", () => {
  const files = sourceFiles();
  expect(files.length).toBeGreaterThan(40);
  const graph = new Map(files.map((file) => [file, localImports(file, readFileSync(join(root, file), "utf8"))]));
  expect(cycles(graph)).toEqual([]);
});

test("db/ sits below the services and common/: none of its files imports theirs", () => {
  const upward = sourceFiles()
    .filter((file) => file.startsWith("db/"))
    .flatMap((file) => localImports(file, readFileSync(join(root, file), "utf8")).map((target) => `${file} -> ${target}`))
    .filter((edge) => /-> (common|auth|transaction)\//.test(edge));
  expect(upward).toEqual([]);
});
