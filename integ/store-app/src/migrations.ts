import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { SEED_PRODUCTS } from './catalogue';

/** One schema or data change, applied exactly once per database. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** Runs on the connection holding the migration lock. DDL must be idempotent (MySQL commits DDL implicitly). */
  readonly up: (conn: PoolConnection) => Promise<void>;
  /** Data migrations run in a transaction together with their `schema_migrations` row. */
  readonly transactional?: boolean;
}

export const MIGRATION_LOCK = 'store_migrations';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create products, orders and uploads tables',
    up: async (conn) => {
      await conn.query(`CREATE TABLE IF NOT EXISTS products (
        id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
        name VARCHAR(200) NOT NULL,
        description VARCHAR(1000) NOT NULL,
        price_cents INT UNSIGNED NOT NULL,
        stock INT NOT NULL,
        CONSTRAINT products_stock_not_negative CHECK (stock >= 0)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
      await conn.query(`CREATE TABLE IF NOT EXISTS orders (
        id CHAR(36) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
        product_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
        quantity INT NOT NULL,
        email VARCHAR(254) NOT NULL,
        unit_price_cents INT UNSIGNED NOT NULL,
        total_cents INT UNSIGNED NOT NULL,
        created_at DATETIME(3) NOT NULL,
        KEY orders_product (product_id),
        CONSTRAINT orders_product_fk FOREIGN KEY (product_id) REFERENCES products (id),
        CONSTRAINT orders_quantity_positive CHECK (quantity > 0)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
      await conn.query(`CREATE TABLE IF NOT EXISTS uploads (
        name VARCHAR(128) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
        size_bytes BIGINT UNSIGNED NOT NULL,
        content_type VARCHAR(127) NOT NULL,
        created_at DATETIME(3) NOT NULL
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
    },
  },
  {
    version: 2,
    name: 'seed the product catalogue',
    transactional: true,
    up: async (conn) => {
      for (const p of SEED_PRODUCTS) {
        await conn.query(
          'INSERT INTO products (id, name, description, price_cents, stock) VALUES (?, ?, ?, ?, ?)',
          [p.id, p.name, p.description, p.price, p.stock],
        );
      }
    },
  },
];

/** Minimal logger interface (pino's and console's `info`). */
export interface MigrationLogger {
  info(obj: object, msg: string): void;
}

/**
 * Applies the pending migrations. Safe when many instances start at once: the work happens under the
 * named lock `store_migrations` (GET_LOCK), and `schema_migrations` records what has been applied, so
 * every migration runs exactly once per database.
 *
 * @returns the versions applied by this call
 */
export async function migrate(pool: Pool, log: MigrationLogger, lockTimeoutSeconds = 60): Promise<number[]> {
  const conn = await pool.getConnection();
  const applied: number[] = [];
  try {
    const [lockRows] = await conn.query<RowDataPacket[]>('SELECT GET_LOCK(?, ?) AS acquired', [MIGRATION_LOCK, lockTimeoutSeconds]);
    if (lockRows[0]?.acquired !== 1) {
      throw new Error(`could not acquire the migration lock '${MIGRATION_LOCK}' within ${lockTimeoutSeconds}s`);
    }
    try {
      await conn.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INT NOT NULL PRIMARY KEY,
        name VARCHAR(200) NOT NULL,
        applied_at DATETIME(3) NOT NULL
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
      const [rows] = await conn.query<RowDataPacket[]>('SELECT version FROM schema_migrations');
      const done = new Set(rows.map((r) => Number(r.version)));
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        if (m.transactional) await conn.beginTransaction();
        try {
          await m.up(conn);
          await conn.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, new Date()]);
          if (m.transactional) await conn.commit();
        } catch (err) {
          if (m.transactional) await conn.rollback();
          throw err;
        }
        applied.push(m.version);
        log.info({ version: m.version, migration: m.name }, 'applied migration');
      }
    } finally {
      // The server also releases the lock if this connection dies.
      await conn.query('SELECT RELEASE_LOCK(?)', [MIGRATION_LOCK]).catch(() => undefined);
    }
  } finally {
    conn.release();
  }
  return applied;
}
