import { strict as assert } from 'assert';
import { readFileSync } from 'fs';
import type { RowDataPacket } from 'mysql2/promise';
import { SEED_PRODUCTS } from '../../src/catalogue';
import { MIGRATIONS } from '../../src/migrations';
import { test, TestCase } from '../harness';
import { postJson } from '../http';
import { AppInstance, LocalStack } from '../stack';

export const CONCURRENCY_DB = 'store_concurrency';
const INSTANCES = 8;
const BUYERS = 50;
const STOCK = 10;
const PRODUCT = 'backpack';

/**
 * Eight API processes boot at once on an empty database: the schema is migrated and seeded once.
 * Then fifty buyers race for ten items: exactly ten orders, never negative stock.
 */
export function concurrencyTests(stack: LocalStack): TestCase[] {
  let apps: AppInstance[] = [];
  const db = `\`${CONCURRENCY_DB}\``;

  return [
    test(`concurrency: ${INSTANCES} API processes start at once on an empty database, migrations run once`, async () => {
      const tables = await stack.sql<RowDataPacket[]>('SELECT table_name FROM information_schema.tables WHERE table_schema = ?', [CONCURRENCY_DB]);
      assert.equal(tables.length, 0, 'database starts empty');

      apps = await Promise.all(Array.from({ length: INSTANCES }, (_, i) =>
        stack.startApp({ name: `concurrent-${i + 1}`, database: CONCURRENCY_DB, wait: 'none' })));
      await Promise.all(apps.map((a) => stack.waitReady(a)));

      const migrations = await stack.sql<RowDataPacket[]>(`SELECT version FROM ${db}.schema_migrations ORDER BY version`);
      assert.deepEqual(migrations.map((m) => m.version), MIGRATIONS.map((m) => m.version), 'each migration recorded once');
      // Count the "applied migration" log lines of all eight processes: each migration ran in exactly one.
      const applied = apps.flatMap((a) => readFileSync(a.process.logFile, 'utf8').split('\n')
        .filter((l) => l.includes('"msg":"applied migration"')).map((l) => JSON.parse(l).version as number));
      assert.deepEqual(applied.sort(), MIGRATIONS.map((m) => m.version).sort(), 'each migration applied by exactly one process');

      const products = await stack.sql<RowDataPacket[]>(`SELECT id, COUNT(*) AS n FROM ${db}.products GROUP BY id ORDER BY id`);
      assert.deepEqual(products.map((p) => [p.id, Number(p.n)]), SEED_PRODUCTS.map((p) => [p.id, 1]).sort(), 'six products, no duplicates');
    }, 120_000),

    test(`concurrency: ${BUYERS} simultaneous purchases of an item with stock ${STOCK}: exactly ${STOCK} succeed`, async () => {
      assert.equal(apps.length, INSTANCES, 'instances from the previous test');
      await stack.sql(`UPDATE ${db}.products SET stock = ? WHERE id = ?`, [STOCK, PRODUCT]);
      const results = await Promise.all(Array.from({ length: BUYERS }, (_, i) =>
        postJson(`${apps[i % apps.length]!.url}/api/orders`, { productId: PRODUCT, quantity: 1, email: `buyer${i}@example.com` })));
      const byStatus: Record<number, number> = {};
      for (const r of results) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
      assert.deepEqual(byStatus, { 201: STOCK, 409: BUYERS - STOCK }, `status counts ${JSON.stringify(byStatus)}`);
      for (const r of results.filter((x) => x.status === 409)) assert.deepEqual(r.json, { error: 'insufficient stock' });

      const [row] = await stack.sql<RowDataPacket[]>(`SELECT stock FROM ${db}.products WHERE id = ?`, [PRODUCT]);
      assert.equal(row!.stock, 0, 'stock ends at 0');
      const [orders] = await stack.sql<RowDataPacket[]>(`SELECT COUNT(*) AS n, SUM(quantity) AS q FROM ${db}.orders WHERE product_id = ?`, [PRODUCT]);
      assert.equal(Number(orders!.n), STOCK, 'one order row per success');
      assert.equal(Number(orders!.q), STOCK);
      const [negative] = await stack.sql<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${db}.products WHERE stock < 0`);
      assert.equal(Number(negative!.n), 0, 'no negative stock anywhere');
    }, 60_000),

    test('graceful shutdown: every API process exits 0 on SIGTERM', async () => {
      const codes = await Promise.all(apps.map((a) => a.process.stop('SIGTERM', 15_000)));
      assert.deepEqual(codes, apps.map(() => 0));
    }, 30_000),
  ];
}
