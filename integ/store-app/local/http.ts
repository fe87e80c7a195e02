import { strict as assert } from 'assert';
import { request } from 'http';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { RowDataPacket } from 'mysql2/promise';
import { BUCKET, LocalStack, MAIN_DB } from './stack';

/** A response read to the end. */
export interface Res {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  readonly text: string;
  /** Parsed JSON, or undefined when the body is not JSON. */
  readonly json: any;
}

export async function http(url: string, init: RequestInit = {}): Promise<Res> {
  const res = await fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(30_000) });
  const body = Buffer.from(await res.arrayBuffer());
  const text = body.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, body, text, json };
}

/** GET with the path sent exactly as given (fetch would resolve `..` and `%2E%2E` segments first). */
export function rawGet(baseUrl: string, rawPath: string): Promise<Res> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path: rawPath, method: 'GET', timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const text = body.toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
        resolve({ status: res.statusCode ?? 0, headers, body, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: GET ${rawPath}`)));
    req.on('error', reject);
    req.end();
  });
}

export function postJson(url: string, body: unknown): Promise<Res> {
  return http(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Asserts a client error: the status, a JSON content type and `{ error: non-empty string }`. */
export function assertClientError(res: Res, status: number, what: string): void {
  assert.equal(res.status, status, `${what}: expected ${status}, got ${res.status}: ${res.text.slice(0, 300)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `${what}: JSON content type`);
  assert.equal(typeof res.json?.error, 'string', `${what}: body has an error string: ${res.text.slice(0, 300)}`);
  assert.ok(res.json.error.length > 0, `${what}: error message is not empty`);
}

/** What the store has written: stock per product, order, upload rows and upload objects. */
export interface WrittenState {
  readonly stock: Record<string, number>;
  readonly orders: number;
  readonly uploads: number;
  readonly uploadObjects: number;
}

export async function writtenState(stack: LocalStack, database = MAIN_DB): Promise<WrittenState> {
  const products = await stack.sql<RowDataPacket[]>(`SELECT id, stock FROM \`${database}\`.products ORDER BY id`);
  const [orders] = await stack.sql<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${database}\`.orders`);
  const [uploads] = await stack.sql<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${database}\`.uploads`);
  const s3 = stack.s3();
  try {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'uploads/' }));
    return {
      stock: Object.fromEntries(products.map((p) => [p.id, Number(p.stock)])),
      orders: Number(orders!.n),
      uploads: Number(uploads!.n),
      uploadObjects: listed.KeyCount ?? 0,
    };
  } finally {
    s3.destroy();
  }
}
