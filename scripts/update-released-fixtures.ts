/**
 * Refreshes test/fixtures/released/<env>.template.json: the synthesized templates of the examples
 * as they are now, which test/upgrade-safety.test.ts then treats as "the last released version".
 *
 * Run it when a version is released, and only then (see test/fixtures/released/README.md):
 *
 *   npx ts-node --transpile-only scripts/update-released-fixtures.ts
 */
import * as fs from 'fs';
import * as path from 'path';
import { EXAMPLES, synthesizeExample } from './lib/examples';

const dir = path.join(__dirname, '..', 'test', 'fixtures', 'released');
fs.mkdirSync(dir, { recursive: true });
for (const name of EXAMPLES) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const template = synthesizeExample(name, (p) => require(p));
  const file = path.join(dir, `${name}.template.json`);
  fs.writeFileSync(file, `${JSON.stringify(template, null, 1)}\n`);
  console.log(`${path.relative(process.cwd(), file)}: ${Object.keys(template.Resources).length} resources`);
}
