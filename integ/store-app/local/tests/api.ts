import { strict as assert } from 'assert';
import { readFileSync } from 'fs';
import { join } from 'path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { SEED_PRODUCTS } from '../../src/catalogue';
import { test, TestCase } from '../harness';
import { assertClientError, http, postJson, rawGet, Res, writtenState } from '../http';
import { BUCKET, LocalStack, MAIN_DB, STORE_APP_DIR } from '../stack';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MiB = 1024 * 1024;

function multipart(files: Array<{ name: string; content: Buffer | string; type?: string }>, fields: Record<string, string> = {}): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  for (const f of files) form.append('file', new Blob([typeof f.content === 'string' ? f.content : new Uint8Array(f.content)], { type: f.type ?? 'application/octet-stream' }), f.name);
  return form;
}

/** End-to-end tests of every endpoint through NGINX, including every kind of bad input. */
export function apiTests(stack: LocalStack): TestCase[] {
  const url = (path: string) => `${stack.url}${path}`;

  /** Sends a bad request and checks it got `status` with a JSON error and wrote nothing. */
  async function rejectsWithoutWriting(what: string, status: number, send: () => Promise<Res>): Promise<void> {
    const before = await writtenState(stack);
    const res = await send();
    assertClientError(res, status, what);
    assert.deepEqual(await writtenState(stack), before, `${what}: nothing written`);
  }

  return [
    test('web tier: NGINX health, static site, security headers', async () => {
      const health = await http(url('/nginx-health'));
      assert.equal(health.status, 200);
      assert.equal(health.text, 'ok');
      const index = await http(url('/'));
      assert.equal(index.status, 200);
      assert.match(index.headers.get('content-type') ?? '', /text\/html/);
      assert.match(index.text, /<title>Three-Tier Store<\/title>/);
      assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(index.headers.get('x-frame-options'), 'DENY');
      assert.equal(index.headers.get('server'), 'nginx', 'server_tokens off: no version');
      const js = await http(url('/app.js'));
      assert.equal(js.status, 200);
      assert.match(js.headers.get('content-type') ?? '', /javascript/);
      const deepLink = await http(url('/some/page'));
      assert.equal(deepLink.status, 200, 'unknown paths fall back to index.html');
    }),

    test('GET /readyz through NGINX and /healthz, /readyz on each API process', async () => {
      const ready = await http(url('/readyz'));
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.json, { status: 'ready' });
      for (const app of stack.apps) {
        assert.deepEqual((await http(`${app.url}/healthz`)).json, { status: 'ok' });
        assert.equal((await http(`${app.url}/readyz`)).status, 200);
      }
    }),

    test('GET /api/products lists the six seeded products', async () => {
      const res = await http(url('/api/products'));
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const products = res.json.products as any[];
      assert.deepEqual(products.map((p) => p.id).sort(), SEED_PRODUCTS.map((p) => p.id).sort());
      for (const p of products) {
        const seed = SEED_PRODUCTS.find((s) => s.id === p.id)!;
        assert.equal(p.name, seed.name);
        assert.equal(p.price, seed.price);
        assert.ok(Number.isInteger(p.price), 'price is integer cents');
        assert.equal(p.currency, 'USD');
        assert.ok(Number.isInteger(p.stock) && p.stock >= 0);
        assert.equal(p.imageUrl, `/api/products/${p.id}/image`);
      }
    }),

    test('GET /api/products/:id: known, unknown and malformed ids', async () => {
      const res = await http(url('/api/products/red-mug'));
      assert.equal(res.status, 200);
      assert.equal(res.json.id, 'red-mug');
      assert.equal(res.json.price, 1299);
      for (const id of ['no-such-product', 'RED-MUG', '%27%20OR%201%3D1', 'a'.repeat(200), '..%2Fred-mug']) {
        assertClientError(await http(url(`/api/products/${id}`)), 404, `product ${id}`);
      }
      assertClientError(await http(url('/api/no-such-route')), 404, 'unknown API route');
      assertClientError(await http(url('/api/products/%E0%A4')), 400, 'percent-encoding that is not UTF-8');
      // NGINX itself rejects a broken escape; the API does too.
      assertClientError(await http(`${stack.apps[0]!.url}/api/products/%E0%A4%A`), 400, 'broken percent-encoding (direct)');
      assertClientError(await http(url(`/api/products/${'a'.repeat(400)}`)), 414, 'over-long id');
    }),

    test('GET /api/products/:id/image streams every image from S3', async () => {
      for (const p of SEED_PRODUCTS) {
        const res = await http(url(`/api/products/${p.id}/image`));
        assert.equal(res.status, 200, `${p.id}: ${res.text.slice(0, 200)}`);
        assert.equal(res.headers.get('content-type'), 'image/svg+xml');
        assert.deepEqual(res.body, readFileSync(join(STORE_APP_DIR, 'images', `${p.id}.svg`)), `${p.id}: bytes as uploaded`);
        assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      }
      assertClientError(await http(url('/api/products/no-such-product/image')), 404, 'image of unknown product');
    }),

    test('POST /api/orders: 201, stock decremented, GET /api/orders/:id', async () => {
      const before = await writtenState(stack);
      const res = await postJson(url('/api/orders'), { productId: 'notepad', quantity: 3, email: 'ada@example.com' });
      assert.equal(res.status, 201, res.text);
      assert.match(res.json.id, UUID);
      assert.equal(res.headers.get('location'), `/api/orders/${res.json.id}`);
      assert.deepEqual(
        { productId: res.json.productId, quantity: res.json.quantity, email: res.json.email, unitPrice: res.json.unitPrice, total: res.json.total },
        { productId: 'notepad', quantity: 3, email: 'ada@example.com', unitPrice: 599, total: 1797 },
      );
      const after = await writtenState(stack);
      assert.equal(after.stock.notepad, before.stock.notepad! - 3);
      assert.equal(after.orders, before.orders + 1);
      const fetched = await http(url(`/api/orders/${res.json.id}`));
      assert.equal(fetched.status, 200);
      assert.deepEqual(fetched.json, res.json);
      const product = await http(url('/api/products/notepad'));
      assert.equal(product.json.stock, after.stock.notepad);
    }),

    test('POST /api/orders: every bad input is a 4xx JSON error and writes nothing', async () => {
      const ok = { productId: 'red-mug', quantity: 1, email: 'grace@example.com' };
      const cases: Array<[string, number, unknown]> = [
        ['unknown product', 404, { ...ok, productId: 'no-such-product' }],
        ['malformed product id', 404, { ...ok, productId: '../red-mug' }],
        ['productId not a string', 400, { ...ok, productId: 42 }],
        ['productId missing', 400, { quantity: 1, email: ok.email }],
        ['quantity 0', 400, { ...ok, quantity: 0 }],
        ['quantity negative', 400, { ...ok, quantity: -2 }],
        ['quantity fractional', 400, { ...ok, quantity: 1.5 }],
        ['quantity a string', 400, { ...ok, quantity: '2' }],
        ['quantity null', 400, { ...ok, quantity: null }],
        ['quantity missing', 400, { productId: ok.productId, email: ok.email }],
        ['quantity too large', 400, { ...ok, quantity: 1000 }],
        ['email missing', 400, { productId: ok.productId, quantity: 1 }],
        ['email without @', 400, { ...ok, email: 'grace.example.com' }],
        ['email without domain dot', 400, { ...ok, email: 'grace@localhost' }],
        ['email with spaces', 400, { ...ok, email: 'grace hopper@example.com' }],
        ['email too long', 400, { ...ok, email: `${'g'.repeat(250)}@example.com` }],
        ['email not a string', 400, { ...ok, email: ['grace@example.com'] }],
        ['unexpected field', 400, { ...ok, price: 1 }],
        ['array body', 400, [ok]],
        ['JSON null body', 400, null],
        ['more than in stock', 409, { ...ok, quantity: 6, productId: 'headphones' }],
      ];
      await stack.sql(`UPDATE \`${MAIN_DB}\`.products SET stock = 5 WHERE id = 'headphones'`);
      for (const [what, status, body] of cases) {
        await rejectsWithoutWriting(what, status, () => postJson(url('/api/orders'), body));
      }
      const raw: Array<[string, number, RequestInit]> = [
        ['malformed JSON', 400, { headers: { 'content-type': 'application/json' }, body: '{"productId": "red-mug", ' }],
        ['empty JSON body', 400, { headers: { 'content-type': 'application/json' }, body: '' }],
        ['text body', 400, { headers: { 'content-type': 'text/plain' }, body: 'red-mug x1' }],
        ['unsupported content type', 415, { headers: { 'content-type': 'application/xml' }, body: '<order/>' }],
        ['oversized JSON body', 413, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...ok, pad: 'x'.repeat(100_000) }) }],
      ];
      for (const [what, status, init] of raw) {
        await rejectsWithoutWriting(what, status, () => http(url('/api/orders'), { method: 'POST', ...init }));
      }
    }),

    test('GET /api/orders/:id: unknown and malformed ids are 404', async () => {
      for (const id of ['00000000-0000-4000-8000-000000000000', 'not-an-order', '1%20OR%201%3D1']) {
        assertClientError(await http(url(`/api/orders/${id}`)), 404, `order ${id}`);
      }
    }),

    test('POST /api/uploads then GET /api/uploads/:name round-trips through S3', async () => {
      const before = await writtenState(stack);
      const content = `hello from the local tiers ${Date.now()}\n`;
      const res = await http(url('/api/uploads'), { method: 'POST', body: multipart([{ name: 'notes.txt', content, type: 'text/plain' }]) });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.json.name, 'notes.txt');
      assert.equal(res.json.size, Buffer.byteLength(content));
      assert.equal(res.json.contentType, 'text/plain');
      assert.equal(res.headers.get('location'), '/api/uploads/notes.txt');
      const after = await writtenState(stack);
      assert.equal(after.uploads, before.uploads + 1);
      assert.equal(after.uploadObjects, before.uploadObjects + 1);

      const s3 = stack.s3();
      const obj = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'uploads/notes.txt' }));
      assert.equal(await obj.Body!.transformToString(), content, 'object in the bucket');
      s3.destroy();

      const got = await http(url('/api/uploads/notes.txt'));
      assert.equal(got.status, 200);
      assert.equal(got.text, content);
      assert.equal(got.headers.get('content-type'), 'text/plain');
      assert.equal(got.headers.get('content-disposition'), 'attachment; filename="notes.txt"');

      // A binary file just under the limit.
      const big = Buffer.alloc(5 * MiB - 1024, 7);
      const bigRes = await http(url('/api/uploads'), { method: 'POST', body: multipart([{ name: 'big.bin', content: big }]) });
      assert.equal(bigRes.status, 201, bigRes.text);
      const bigGot = await http(url('/api/uploads/big.bin'));
      assert.ok(bigGot.body.equals(big), 'big file round-trips');
      assert.equal(bigGot.headers.get('content-type'), 'application/octet-stream');
    }, 90_000),

    test('POST /api/uploads: every bad input is a 4xx JSON error and writes nothing', async () => {
      const post = (form: FormData | string, headers: Record<string, string> = {}) => () =>
        http(url('/api/uploads'), { method: 'POST', body: form, headers });
      await rejectsWithoutWriting('oversized file (5 MiB + 1)', 413, post(multipart([{ name: 'too-big.bin', content: Buffer.alloc(5 * MiB + 1, 1) }])));
      for (const name of ['../evil.txt', '..', 'a/b.txt', '/etc/passwd', '..\\evil.txt', '.env', 'has space.txt', 'x'.repeat(129), 'semi;colon', 'nul\u0000.txt', 'ünïcode.txt']) {
        await rejectsWithoutWriting(`file name ${JSON.stringify(name)}`, 400, post(multipart([{ name, content: 'x' }])));
      }
      await rejectsWithoutWriting('empty file', 400, post(multipart([{ name: 'empty.txt', content: '' }])));
      await rejectsWithoutWriting('no file part', 400, post(multipart([], { note: 'no file here' })));
      await rejectsWithoutWriting('two files', 400, post(multipart([{ name: 'one.txt', content: '1' }, { name: 'two.txt', content: '2' }])));
      await rejectsWithoutWriting('not multipart', 415, post(JSON.stringify({ name: 'x.txt' }), { 'content-type': 'application/json' }));
      await rejectsWithoutWriting('duplicate name', 409, post(multipart([{ name: 'notes.txt', content: 'overwrite attempt' }])));
      const original = await http(url('/api/uploads/notes.txt'));
      assert.match(original.text, /^hello from the local tiers/, 'the first upload is untouched');
      // The connection pool to the API is still healthy after all the rejected bodies.
      assert.equal((await http(url('/api/products'))).status, 200);
    }, 90_000),

    test('GET /api/uploads/:name: bad names are 400, unknown names 404', async () => {
      // Through NGINX: names that survive its URI normalization reach the API with the raw URI.
      for (const name of ['.env', '%2Fetc%2Fpasswd', 'a%5Cb', '..%2Fproducts', 'x'.repeat(200)]) {
        assertClientError(await http(url(`/api/uploads/${name}`)), 400, `upload name ${name} (through NGINX)`);
      }
      // Dot segments sent raw: NGINX routes the normalized URI (/api/) but passes the raw one on.
      assertClientError(await rawGet(stack.url, '/api/uploads/%2E%2E'), 400, 'upload name %2E%2E (raw, through NGINX)');
      // Directly at an API process: traversal that NGINX would already have resolved away.
      for (const name of ['..%2F..%2Fetc%2Fpasswd', '..', '%2E%2E', '..%5C..%5Cwindows', '%00']) {
        assertClientError(await rawGet(stack.apps[0]!.url, `/api/uploads/${name}`), 400, `upload name ${name} (raw, direct)`);
      }
      assertClientError(await http(url('/api/uploads/no-such-file.txt')), 404, 'unknown upload');
      // NGINX resolves encoded dot segments before routing: this is /etc/passwd, the static site's fallback page.
      const resolved = await http(url('/api/uploads/..%2F..%2F..%2Fetc%2Fpasswd'));
      assert.doesNotMatch(resolved.text, /root:/, 'no file from outside the site');
      assert.match(resolved.headers.get('content-type') ?? '', /text\/html/);
    }),

    test('web tier: rejected request bodies never count as upstream failures in NGINX', async () => {
      // Bodies of ~100 KB made NGINX see a broken pipe within a few requests before the API kept the connection.
      const requests: Array<[number, RequestInit & { path: string }]> = [
        [413, { path: '/api/orders', method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(70_000) }],
        [413, { path: '/api/orders', method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(100_000) }],
        [413, { path: '/api/orders', method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(3 * MiB) }],
        [415, { path: '/api/orders', method: 'POST', headers: { 'content-type': 'application/xml' }, body: 'x'.repeat(100_000) }],
        [413, { path: '/api/uploads', method: 'POST', body: multipart([{ name: 'huge.bin', content: Buffer.alloc(6 * MiB) }]) }],
        [400, { path: '/api/uploads', method: 'POST', body: multipart([{ name: '../huge.bin', content: Buffer.alloc(3 * MiB) }]) }],
      ];
      for (let round = 0; round < 10; round++) {
        for (const [status, { path, ...init }] of requests) assertClientError(await http(url(path), init), status, `${init.method} ${path}`);
      }
      const upstreamErrors = readFileSync(join(stack.logDir, 'error.log'), 'utf8').split('\n').filter((l) => l.includes('[error]') && l.includes('upstream'));
      assert.deepEqual(upstreamErrors, [], 'NGINX saw no upstream errors (an error would take an API process out of rotation)');
      assert.equal((await http(url('/api/products'))).status, 200);
    }, 90_000),
  ];
}
