/**
 * Rewrites the generated blocks of README.md (listed in scripts/lib/readme-blocks.ts) with what
 * their render functions return. `test/readme.test.ts` fails when a block differs from its rendering.
 *
 *   npx ts-node --transpile-only scripts/update-readme.ts
 */
import * as fs from 'fs';
import { readBlock, README_BLOCKS, README_PATH, renderReadme } from './lib/readme-blocks';

function main(): void {
  const before = fs.readFileSync(README_PATH, 'utf8');
  const after = renderReadme(before);
  const changed = README_BLOCKS.filter((b) => readBlock(before, b.name) !== readBlock(after, b.name)).map((b) => b.name);
  if (after !== before) fs.writeFileSync(README_PATH, after);
  process.stdout.write(changed.length > 0 ? `README.md: updated ${changed.join(', ')}\n` : 'README.md: up to date\n');
}

try {
  main();
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
}
