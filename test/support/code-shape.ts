/**
 * The shape of the library's source: file lengths, function lengths and the imports between its
 * folders, read with the TypeScript compiler's parser (no type checking, so it is fast).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

/** A function-like node of the source and its length in lines. */
export interface FunctionShape {
  readonly file: string;
  readonly name: string;
  readonly lines: number;
}

/** Every .ts file under `dir` (relative to `root`), generated files and bundled handlers left out. */
export function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of fs.readdirSync(path.join(root, d), { withFileTypes: true })) {
      const rel = path.join(d, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(rel);
    }
  };
  walk(dir);
  return out.sort();
}

/** Number of lines of a file. */
export function lineCount(root: string, file: string): number {
  return fs.readFileSync(path.join(root, file), 'utf8').split('\n').length - 1;
}

function parse(root: string, file: string): ts.SourceFile {
  return ts.createSourceFile(file, fs.readFileSync(path.join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);
}

function nameOf(node: ts.Node, sf: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText(sf);
  if (ts.isConstructorDeclaration(node)) {
    const cls = node.parent as ts.ClassLikeDeclaration;
    return `${cls.name?.getText(sf) ?? '(class)'}.constructor`;
  }
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText(sf);
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText(sf);
  return `(anonymous at line ${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1})`;
}

/** Every function, method, constructor, accessor and arrow function of a file with its length in lines. */
export function functionsOf(root: string, file: string): FunctionShape[] {
  const sf = parse(root, file);
  const out: FunctionShape[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      out.push({ file, name: nameOf(node, sf), lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The folders (relative to `dir`) each folder's files import from, by relative import. */
export function folderImports(root: string, dir: string): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(root, dir)) {
    const from = path.relative(dir, path.dirname(file)) || '.';
    const sf = parse(root, file);
    for (const statement of sf.statements) {
      const specifier = (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) ? statement.moduleSpecifier : undefined;
      if (!specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) continue;
      const target = path.relative(dir, path.dirname(path.join(path.dirname(file), specifier.text))) || '.';
      if (target === from) continue;
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)!.add(target);
    }
  }
  return graph;
}

/** Each cycle in a folder graph, as the folders on it (empty when there is none). */
export function folderCycles(graph: Map<string, Set<string>>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}
