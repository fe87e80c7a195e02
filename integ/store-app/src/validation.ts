/** An error answered with its status code and `{ "error": message }`. */
export class HttpError extends Error {
  constructor(public readonly statusCode: number, message: string) {
    super(message);
  }
}

const PRODUCT_ID = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const ORDER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UPLOAD_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
// A practical subset of RFC 5322: local part of atext and dots, a domain of at least two labels.
const EMAIL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;
const CONTENT_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}$/;

export const MAX_ORDER_QUANTITY = 100;

/** True when `id` has the shape of a product id (a lowercase slug). */
export function isProductId(id: string): boolean {
  return PRODUCT_ID.test(id);
}

/** True when `id` has the shape of an order id (a lowercase UUID). */
export function isOrderId(id: string): boolean {
  return ORDER_ID.test(id);
}

/**
 * Checks an upload name: letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most
 * 128 characters, and no `..` (so no path traversal, hidden files or separators).
 */
export function validateUploadName(name: unknown): string {
  if (typeof name !== 'string' || name === '') throw new HttpError(400, 'a file name is required');
  if (!UPLOAD_NAME.test(name) || name.includes('..')) {
    throw new HttpError(400, 'invalid file name: use 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  return name;
}

/** Returns a safe `type/subtype` content type, or `application/octet-stream`. */
export function normalizeContentType(raw: unknown): string {
  if (typeof raw !== 'string') return 'application/octet-stream';
  const base = raw.split(';')[0]!.trim().toLowerCase();
  return CONTENT_TYPE.test(base) ? base : 'application/octet-stream';
}

/** A validated purchase request. */
export interface OrderInput {
  readonly productId: string;
  readonly quantity: number;
  readonly email: string;
}

const ORDER_FIELDS = new Set(['productId', 'quantity', 'email']);

/**
 * Validates the body of `POST /api/orders`: `{ productId: string, quantity: integer 1..100, email }`.
 * Throws a 400 naming the first problem.
 */
export function validateOrderInput(body: unknown): OrderInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'the request body must be a JSON object with productId, quantity and email');
  }
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (!ORDER_FIELDS.has(key)) throw new HttpError(400, `unexpected field '${key.slice(0, 50)}'`);
  }
  if (typeof b.productId !== 'string' || b.productId === '') throw new HttpError(400, 'productId is required and must be a string');
  if (b.quantity === undefined || b.quantity === null) throw new HttpError(400, 'quantity is required');
  if (typeof b.quantity !== 'number' || !Number.isInteger(b.quantity)) throw new HttpError(400, 'quantity must be an integer');
  if (b.quantity < 1 || b.quantity > MAX_ORDER_QUANTITY) throw new HttpError(400, `quantity must be between 1 and ${MAX_ORDER_QUANTITY}`);
  if (typeof b.email !== 'string' || b.email === '') throw new HttpError(400, 'email is required');
  const email = b.email.trim();
  if (email.length > 254 || !EMAIL.test(email)) throw new HttpError(400, 'email is not a valid e-mail address');
  return { productId: b.productId, quantity: b.quantity, email };
}
