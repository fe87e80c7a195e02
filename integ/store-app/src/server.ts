import { randomUUID } from 'crypto';
import multipart from '@fastify/multipart';
import Fastify, { FastifyError, FastifyInstance, FastifyReply, FastifyServerOptions, LogController } from 'fastify';
import type { PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { productImageKey, uploadKey } from './catalogue';
import type { Database } from './db';
import type { ObjectStore, StoredObject } from './storage';
import { HttpError, isOrderId, isProductId, normalizeContentType, validateOrderInput, validateUploadName } from './validation';

/** What the HTTP server needs. */
export interface ServerDeps {
  readonly db: Database;
  readonly store: ObjectStore;
  /** Largest accepted upload in bytes; larger ones get 413. */
  readonly maxUploadBytes: number;
  /** Fastify's `logger` option. @default false */
  readonly logger?: FastifyServerOptions['logger'];
}

const CURRENCY = 'USD';

/** Largest request body read to the end after an early 4xx, to keep the connection (see the onSend hook). */
export const MAX_DRAIN_BYTES = 16 * 1024 * 1024;

/** Database errors that mean "the database is not reachable" rather than a bug: answered with 503. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'POOL_CLOSED', 'ER_CON_COUNT_ERROR', 'ER_LOCK_WAIT_TIMEOUT',
]);

/** Messages for Fastify's own 4xx errors, so clients get stable, readable `error` texts. */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'request body is not valid JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'request body is empty',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported content type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid content length',
  FST_ERR_CTP_BODY_TOO_LARGE: 'request body is too large',
  FST_ERR_CTP_INVALID_TYPE: 'invalid content type',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'the request must be multipart/form-data',
  FST_FILES_LIMIT: 'send exactly one file',
  FST_PARTS_LIMIT: 'too many parts in the multipart request',
  FST_FIELDS_LIMIT: 'too many fields in the multipart request',
  FST_PROTO_VIOLATION: 'invalid multipart field name',
};

interface ProductRow extends RowDataPacket {
  id: string;
  name: string;
  description: string;
  price_cents: number;
  stock: number;
}

interface OrderRow extends RowDataPacket {
  id: string;
  product_id: string;
  quantity: number;
  email: string;
  unit_price_cents: number;
  total_cents: number;
  created_at: Date;
}

interface UploadRow extends RowDataPacket {
  name: string;
  size_bytes: number;
  content_type: string;
  created_at: Date;
}

function productJson(p: ProductRow) {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    price: p.price_cents,
    currency: CURRENCY,
    stock: p.stock,
    imageUrl: `/api/products/${p.id}/image`,
  };
}

function orderJson(o: OrderRow) {
  return {
    id: o.id,
    productId: o.product_id,
    quantity: o.quantity,
    email: o.email,
    unitPrice: o.unit_price_cents,
    total: o.total_cents,
    currency: CURRENCY,
    status: 'confirmed',
    createdAt: o.created_at.toISOString(),
  };
}

function uploadJson(u: UploadRow) {
  return {
    name: u.name,
    size: Number(u.size_bytes),
    contentType: u.content_type,
    createdAt: u.created_at.toISOString(),
    url: `/api/uploads/${u.name}`,
  };
}

function sendObject(reply: FastifyReply, obj: StoredObject, contentType: string) {
  reply.header('content-type', contentType);
  if (obj.contentLength !== undefined) reply.header('content-length', obj.contentLength);
  if (obj.etag) reply.header('etag', obj.etag);
  return reply.send(obj.body);
}

/** Runs `fn` in a transaction on its own connection, retrying a deadlock a few times. */
async function inTransaction<T>(db: Database, fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const conn = await db.get().getConnection();
    try {
      await conn.beginTransaction();
      try {
        const result = await fn(conn);
        await conn.commit();
        return result;
      } catch (err) {
        await conn.rollback().catch(() => undefined);
        throw err;
      }
    } catch (err) {
      if ((err as { code?: string }).code === 'ER_LOCK_DEADLOCK' && attempt < 3) continue;
      throw err;
    } finally {
      conn.release();
    }
  }
}

/**
 * Builds the store API (not listening yet): catalogue, orders, uploads, health and readiness.
 * Every client error is answered with a 4xx and `{ "error": "..." }`.
 */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const { db, store, maxUploadBytes } = deps;
  const app = Fastify({
    logger: deps.logger ?? false,
    // NGINX logs every request; the app logs errors and lifecycle events only.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    return503OnClosing: true,
    // Long ids get a 404 from the handlers rather than the router's 414.
    routerOptions: { maxParamLength: 300 },
    // Malformed URLs (bad percent-encoding, over-long parameters): same JSON error shape as everything else.
    frameworkErrors: (err, _req, reply) => {
      const error = err.code === 'FST_ERR_BAD_URL' ? 'malformed URL' : 'URL too long';
      void (reply as FastifyReply).code(err.statusCode ?? 400).send({ error });
    },
  });

  void app.register(multipart, {
    // Keep the client's file name as sent (busboy would strip directories): names are validated, not rewritten.
    preservePath: true,
    limits: { fileSize: maxUploadBytes, files: 5, fields: 10, parts: 15, fieldSize: 1024 },
  });

  // Fastify answers a body it will not parse (too large, invalid, unsupported type) with
  // `Connection: close`, before reading the rest of it. Behind NGINX that breaks the pipe NGINX is still
  // writing the body into, which NGINX counts as an upstream failure: a few bad requests would take
  // every API process out of rotation. So keep the connection open and let Node read and discard the
  // rest of the body (bounded: NGINX's client_max_body_size, MAX_DRAIN_BYTES here).
  app.addHook('onSend', async (req, reply) => {
    if (reply.statusCode < 400 || reply.statusCode >= 500 || reply.getHeader('connection') !== 'close') return;
    const length = Number(req.headers['content-length'] ?? 'NaN');
    if (req.raw.complete || (Number.isInteger(length) && length <= MAX_DRAIN_BYTES)) reply.removeHeader('connection');
  });

  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'not found' }));

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof HttpError) return reply.code(err.statusCode).send({ error: err.message });
    const status = err.statusCode ?? 500;
    if (err.code === 'FST_REQ_FILE_TOO_LARGE') {
      return reply.code(413).send({ error: `file is larger than the limit of ${maxUploadBytes} bytes` });
    }
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ error: FASTIFY_MESSAGES[err.code] ?? err.message });
    }
    if (UNAVAILABLE_CODES.has(err.code)) {
      req.log.warn({ err }, 'database unavailable');
      return reply.code(503).send({ error: 'database unavailable, try again shortly' });
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal error' });
  });

  // --- health ---
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    if (!db.isOpen) return reply.code(503).send({ error: 'database not connected yet' });
    if (!(await db.ping())) return reply.code(503).send({ error: 'database unreachable' });
    return { status: 'ready' };
  });

  // --- catalogue ---
  app.get('/api/products', async () => {
    const [rows] = await db.get().query<ProductRow[]>('SELECT id, name, description, price_cents, stock FROM products ORDER BY name, id');
    return { products: rows.map(productJson) };
  });

  const findProduct = async (id: string): Promise<ProductRow> => {
    if (!isProductId(id)) throw new HttpError(404, 'product not found');
    const [rows] = await db.get().query<ProductRow[]>('SELECT id, name, description, price_cents, stock FROM products WHERE id = ?', [id]);
    if (rows.length === 0) throw new HttpError(404, 'product not found');
    return rows[0]!;
  };

  app.get<{ Params: { id: string } }>('/api/products/:id', async (req) => productJson(await findProduct(req.params.id)));

  app.get<{ Params: { id: string } }>('/api/products/:id/image', async (req, reply) => {
    const product = await findProduct(req.params.id);
    const obj = await store.get(productImageKey(product.id));
    if (!obj) throw new HttpError(404, 'product image not found');
    reply.header('cache-control', 'public, max-age=300');
    // Images are SVG: never let one run script or load anything.
    reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox");
    return sendObject(reply, obj, obj.contentType ?? 'image/svg+xml');
  });

  // --- orders ---
  app.post('/api/orders', async (req, reply) => {
    const input = validateOrderInput(req.body);
    if (!isProductId(input.productId)) throw new HttpError(404, 'product not found');
    const order = await inTransaction(db, async (conn) => {
      // One conditional decrement: concurrent purchases can never take stock below zero.
      const [update] = await conn.query<ResultSetHeader>(
        'UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ?',
        [input.quantity, input.productId, input.quantity],
      );
      const [products] = await conn.query<ProductRow[]>('SELECT id, price_cents FROM products WHERE id = ?', [input.productId]);
      if (products.length === 0) throw new HttpError(404, 'product not found');
      if (update.affectedRows === 0) throw new HttpError(409, 'insufficient stock');
      const unit = products[0]!.price_cents;
      const row = {
        id: randomUUID(),
        product_id: input.productId,
        quantity: input.quantity,
        email: input.email,
        unit_price_cents: unit,
        total_cents: unit * input.quantity,
        created_at: new Date(),
      };
      await conn.query(
        'INSERT INTO orders (id, product_id, quantity, email, unit_price_cents, total_cents, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [row.id, row.product_id, row.quantity, row.email, row.unit_price_cents, row.total_cents, row.created_at],
      );
      return row as OrderRow;
    });
    reply.header('location', `/api/orders/${order.id}`);
    return reply.code(201).send(orderJson(order));
  });

  app.get<{ Params: { id: string } }>('/api/orders/:id', async (req) => {
    const id = req.params.id;
    if (!isOrderId(id)) throw new HttpError(404, 'order not found');
    const [rows] = await db.get().query<OrderRow[]>(
      'SELECT id, product_id, quantity, email, unit_price_cents, total_cents, created_at FROM orders WHERE id = ?',
      [id],
    );
    if (rows.length === 0) throw new HttpError(404, 'order not found');
    return orderJson(rows[0]!);
  });

  // --- uploads ---
  app.post('/api/uploads', async (req, reply) => {
    if (!req.isMultipart()) throw new HttpError(415, 'the request must be multipart/form-data with one file');
    db.get(); // 503 before reading the body when the database is not there yet
    // Read the whole request before writing anything: one valid file, or a 4xx and nothing stored.
    let file: { name: string; data: Buffer; mimetype: string } | undefined;
    let problem: HttpError | undefined;
    for await (const part of req.parts()) {
      if (part.type !== 'file') continue;
      if (file || problem) {
        part.file.resume(); // drain, keep parsing to the end of the request
        problem ??= new HttpError(400, 'send exactly one file');
        continue;
      }
      try {
        validateUploadName(part.filename);
      } catch (err) {
        part.file.resume();
        problem = err as HttpError;
        continue;
      }
      file = { name: part.filename, data: await part.toBuffer(), mimetype: part.mimetype }; // 413 beyond the limit
    }
    if (problem) throw problem;
    if (!file) throw new HttpError(400, 'no file in the request (send one multipart file part)');
    const { name, data } = file;
    if (data.length === 0) throw new HttpError(400, 'the file is empty');
    const row = {
      name,
      size_bytes: data.length,
      content_type: normalizeContentType(file.mimetype),
      created_at: new Date(),
    };
    await inTransaction(db, async (conn) => {
      try {
        await conn.query(
          'INSERT INTO uploads (name, size_bytes, content_type, created_at) VALUES (?, ?, ?, ?)',
          [row.name, row.size_bytes, row.content_type, row.created_at],
        );
      } catch (err) {
        if ((err as { code?: string }).code === 'ER_DUP_ENTRY') throw new HttpError(409, `an upload named '${name}' already exists`);
        throw err;
      }
      // The row commits only when the object is stored.
      try {
        await store.put(uploadKey(name), data, row.content_type);
      } catch (err) {
        req.log.error({ err }, 'storing the upload failed');
        throw new HttpError(502, 'storing the file failed, try again');
      }
    });
    reply.header('location', `/api/uploads/${name}`);
    return reply.code(201).send(uploadJson(row as UploadRow));
  });

  app.get<{ Params: { name: string } }>('/api/uploads/:name', async (req, reply) => {
    const name = validateUploadName(req.params.name);
    const [rows] = await db.get().query<UploadRow[]>('SELECT name, size_bytes, content_type, created_at FROM uploads WHERE name = ?', [name]);
    if (rows.length === 0) throw new HttpError(404, 'upload not found');
    const obj = await store.get(uploadKey(name));
    if (!obj) throw new HttpError(404, 'upload not found');
    reply.header('content-disposition', `attachment; filename="${name}"`);
    reply.header('cache-control', 'private, no-cache');
    return sendObject(reply, obj, rows[0]!.content_type);
  });

  return app;
}
