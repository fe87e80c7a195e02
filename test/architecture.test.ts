/**
 * The code reads like its design: no two folders of src/ import each other (directly or round a
 * longer loop), no file over 350 lines and no function over 60, except where this file says why.
 */
import * as path from 'path';
import { folderCycles, folderImports, functionsOf, lineCount, sourceFiles } from './support/code-shape';

const ROOT = path.join(__dirname, '..');
const MAX_FILE_LINES = 350;
const MAX_FUNCTION_LINES = 60;

/** Files allowed to be longer, and why. */
const LONG_FILES: Record<string, string> = {};
/** Functions allowed to be longer (`file:name`), and why. */
const LONG_FUNCTIONS: Record<string, string> = {};

// The bundled Lambda handler and its generated wrapper are not part of the construct code.
const files = sourceFiles(ROOT, 'src').filter((f) => !f.endsWith('.lambda.ts') && !f.endsWith('-function.ts'));

test('the source is read (guards the checks below against an empty list)', () => {
  expect(files.length).toBeGreaterThan(20);
  expect(files).toContain(path.join('src', 'platform', 'three-tier-platform.ts'));
});

test('no import cycle between folders of src/', () => {
  const graph = folderImports(ROOT, 'src');
  expect(graph.get('platform')).toContain('web');
  expect(folderCycles(graph)).toEqual([]);
});

test('the cycle finder finds a cycle', () => {
  const graph = new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])]]);
  expect(folderCycles(graph)).toEqual([['a', 'b', 'c', 'a']]);
});

test(`no file of src/ over ${MAX_FILE_LINES} lines`, () => {
  const long = files.filter((f) => lineCount(ROOT, f) > MAX_FILE_LINES && !LONG_FILES[f])
    .map((f) => `${f} (${lineCount(ROOT, f)} lines)`);
  expect(long).toEqual([]);
});

test(`no function of src/ over ${MAX_FUNCTION_LINES} lines`, () => {
  const all = files.flatMap((f) => functionsOf(ROOT, f));
  expect(all.length).toBeGreaterThan(100);
  const long = all.filter((fn) => fn.lines > MAX_FUNCTION_LINES && !LONG_FUNCTIONS[`${fn.file}:${fn.name}`])
    .map((fn) => `${fn.file}:${fn.name} (${fn.lines} lines)`);
  expect(long).toEqual([]);
});

test('the allowances name files and functions that exist and are still long', () => {
  for (const file of Object.keys(LONG_FILES)) expect(lineCount(ROOT, file)).toBeGreaterThan(MAX_FILE_LINES);
  const all = files.flatMap((f) => functionsOf(ROOT, f));
  for (const key of Object.keys(LONG_FUNCTIONS)) {
    expect(all.filter((fn) => `${fn.file}:${fn.name}` === key && fn.lines > MAX_FUNCTION_LINES)).toHaveLength(1);
  }
});
