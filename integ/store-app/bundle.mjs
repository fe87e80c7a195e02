// Bundles the store API into one file, dist/app/server.js (run with `node server.js`).
// The output must be byte-identical across runs and machines: it is a CDK asset whose hash is part of
// committed snapshots. So: no source maps, no timestamps, paths relative to the repository root.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');
const outDir = join(here, 'dist', 'app');
const outFile = join(outDir, 'server.js');

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const result = await build({
  absWorkingDir: repoRoot,
  entryPoints: [join(here, 'src', 'main.ts')],
  outfile: outFile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: false,
  sourcemap: false,
  legalComments: 'eof',
  charset: 'utf8',
  logLevel: 'warning',
  metafile: false,
});
if (result.errors.length > 0) process.exit(1);

const sha = createHash('sha256').update(readFileSync(outFile)).digest('hex');
console.log(`bundled ${relative(repoRoot, outFile)} sha256=${sha}`);
