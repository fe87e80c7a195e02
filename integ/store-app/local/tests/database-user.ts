import { strict as assert } from 'assert';
import { readFileSync } from 'fs';
import { createServer, Server, Socket } from 'net';
import { TLSSocket } from 'tls';
import mysql from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2/promise';
import { AppUserSql } from '../../../../src/data/app-user-sql';
import { test, TestCase } from '../harness';
import { assertClientError, http } from '../http';
import { freePort, waitFor } from '../processes';
import { DB_USER, LocalStack, MAIN_DB } from '../stack';
import { CONCURRENCY_DB } from './concurrency';

/** A MySQL error the server returned: its code, number and message. */
async function assertServerError(query: Promise<unknown>, code: string, errno: number, message: RegExp, what: string): Promise<void> {
  await assert.rejects(query, (err: { code?: string; errno?: number; sqlMessage?: string }) => {
    assert.equal(err.code, code, `${what}: error code (${err.sqlMessage})`);
    assert.equal(err.errno, errno, `${what}: error number`);
    assert.match(err.sqlMessage ?? '', message, `${what}: message`);
    return true;
  }, `${what} must fail`);
}

/**
 * The API's database user, created by `renderAppUserSql` (what the data tier's custom resource runs
 * on RDS): what it may and may not do, asserted on the server's answers. Then the API's IAM
 * authentication mode against a server that asks for a token the way RDS does.
 */
export function databaseUserTests(stack: LocalStack): TestCase[] {
  const connectAsAppUser = (tls = true) => mysql.createConnection({
    host: '127.0.0.1',
    port: stack.dbPort,
    user: DB_USER,
    password: stack.dbPassword,
    database: MAIN_DB,
    ssl: tls ? { ca: readFileSync(stack.dbCaFile!, 'utf8'), rejectUnauthorized: true } : undefined,
    connectTimeout: 5000,
  });

  return [
    test('app user: the API processes connect as it (REQUIRE SSL: only over TLS)', async () => {
      // Traffic through both API processes, so their pools hold connections right now.
      for (const app of stack.apps) assert.equal((await http(`${app.url}/api/products`)).status, 200);
      const sessions = await stack.sql<RowDataPacket[]>(
        'SELECT COUNT(*) AS n FROM information_schema.processlist WHERE user = ? AND db = ?', [DB_USER, MAIN_DB]);
      assert.ok(Number(sessions[0]!.n) > 0, `the API processes hold connections as '${DB_USER}'`);
      const others = await stack.sql<RowDataPacket[]>(
        "SELECT DISTINCT user FROM information_schema.processlist WHERE db = ? AND user NOT IN (?, 'root', 'system user')", [MAIN_DB, DB_USER]);
      assert.deepEqual(others.map((r) => r.user), [], 'nobody else uses the store database');
      const conn = await connectAsAppUser();
      try {
        const [[cipher]] = await conn.query<RowDataPacket[]>("SHOW SESSION STATUS LIKE 'Ssl_cipher'");
        assert.notEqual(cipher!.Value, '', 'TLS in use');
      } finally {
        await conn.end();
      }
    }),

    test('app user: exactly the documented privileges, on the store databases only, REQUIRE SSL', async () => {
      const rows = await stack.sql<RowDataPacket[]>(`SHOW GRANTS FOR '${DB_USER}'@'%'`);
      const grants = rows.map((r) => String(Object.values(r)[0]));
      const global = grants.filter((g) => / ON \*\.\* /.test(g));
      assert.equal(global.length, 1, grants.join('\n'));
      assert.match(global[0]!, /^GRANT USAGE ON \*\.\* TO `store`@`%` IDENTIFIED BY PASSWORD '\*[0-9A-F]{40}' REQUIRE SSL$/);
      const perDatabase = new Map<string, string[]>();
      for (const g of grants.filter((x) => !global.includes(x))) {
        const m = /^GRANT (.+) ON `([a-z_]+)`\.\* TO `store`@`%`$/.exec(g);
        assert.ok(m, `unexpected grant: ${g}`);
        perDatabase.set(m[2]!, m[1]!.split(', ').sort());
      }
      assert.deepEqual([...perDatabase.keys()].sort(), [MAIN_DB, CONCURRENCY_DB].sort());
      for (const privileges of perDatabase.values()) assert.deepEqual(privileges, [...AppUserSql.PRIVILEGES].sort());
    }),

    test('app user: reads and writes the store tables', async () => {
      const conn = await connectAsAppUser();
      const name = `db-user-check-${Date.now()}.txt`;
      try {
        const [[products]] = await conn.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM products');
        assert.ok(Number(products!.n) >= 6, 'reads products');
        await conn.query('INSERT INTO uploads (name, size_bytes, content_type, created_at) VALUES (?, 1, ?, NOW(3))', [name, 'text/plain']);
        await conn.query('UPDATE uploads SET size_bytes = 2 WHERE name = ?', [name]);
        const [[row]] = await conn.query<RowDataPacket[]>('SELECT size_bytes FROM uploads WHERE name = ?', [name]);
        assert.equal(Number(row!.size_bytes), 2, 'writes uploads');
        await conn.query('CREATE TEMPORARY TABLE scratch (id INT)');
        await conn.query('DROP TEMPORARY TABLE scratch');
      } finally {
        await conn.query('DELETE FROM uploads WHERE name = ?', [name]).catch(() => undefined);
        await conn.end();
      }
      const [left] = await stack.sql<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${MAIN_DB}\`.uploads WHERE name = ?`, [name]);
      assert.equal(Number(left!.n), 0, 'deletes its row');
    }),

    test('app user: cannot DROP DATABASE, DROP TABLE, CREATE USER or read mysql.user', async () => {
      const conn = await connectAsAppUser();
      try {
        await assertServerError(conn.query(`DROP DATABASE \`${MAIN_DB}\``), 'ER_DBACCESS_DENIED_ERROR', 1044,
          /^Access denied for user 'store'@'[^']+' to database 'store'$/, 'DROP DATABASE');
        await assertServerError(conn.query('DROP TABLE products'), 'ER_TABLEACCESS_DENIED_ERROR', 1142,
          /^DROP command denied to user 'store'@'[^']+' for table `store`\.`products`$/, 'DROP TABLE');
        await assertServerError(conn.query("CREATE USER 'intruder'@'%' IDENTIFIED BY 'intruder-password'"), 'ER_SPECIFIC_ACCESS_DENIED_ERROR', 1227,
          /you need \(at least one of\) the CREATE USER privilege/, 'CREATE USER');
        await assertServerError(conn.query('SELECT user, host FROM mysql.user'), 'ER_TABLEACCESS_DENIED_ERROR', 1142,
          /^SELECT command denied to user 'store'@'[^']+' for table `mysql`\.`user`$/, 'read mysql.user');
      } finally {
        await conn.end();
      }
      const [database] = await stack.sql<RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.schemata WHERE schema_name = ?', [MAIN_DB]);
      assert.equal(Number(database!.n), 1, 'the database is still there');
      const [intruder] = await stack.sql<RowDataPacket[]>("SELECT COUNT(*) AS n FROM mysql.user WHERE user = 'intruder'");
      assert.equal(Number(intruder!.n), 0, 'no user was created');
    }),

    test('app user: refused without TLS (REQUIRE SSL)', async () => {
      await assertServerError(connectAsAppUser(false), 'ER_ACCESS_DENIED_ERROR', 1045,
        /^Access denied for user 'store'@'[^']+' \(using password: YES\)$/, 'plaintext login');
    }),

    test('DB_AUTH=iam: a fresh RDS token per connection, sent as the clear-text password only after TLS is up', async () => {
      const server = await FakeIamServer.start(stack.dbCaFile!, stack.dbKeyFile);
      try {
        const app = await stack.startApp({
          name: 'iam-auth',
          env: {
            DB_AUTH: 'iam',
            DB_USER: DB_USER,
            DB_PORT: String(server.port),
            DB_NAME: MAIN_DB,
            DB_SECRET_ARN: '',
            DB_TLS: 'required',
            DB_TLS_CA_FILE: stack.dbCaFile!,
          },
          wait: 'healthy',
        });
        try {
          // The fake server refuses every token, so the API keeps retrying with new connections.
          await waitFor('two IAM login attempts', async () => server.logins.length >= 2, 30_000, () => app.process.exitError());
          assert.deepEqual(server.plaintextLogins, [], 'no login without TLS');
          for (const login of server.logins) {
            assert.equal(login.user, DB_USER);
            assert.ok(login.tls, 'the token arrived over TLS');
            const url = new URL(`https://${login.token}`);
            assert.equal(url.host, `127.0.0.1:${server.port}`, 'signed for the database host and port');
            const q = url.searchParams;
            assert.equal(q.get('Action'), 'connect');
            assert.equal(q.get('DBUser'), DB_USER);
            assert.equal(q.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256');
            assert.match(q.get('X-Amz-Credential') ?? '', /^testing\/\d{8}\/us-east-1\/rds-db\/aws4_request$/);
            assert.equal(q.get('X-Amz-Expires'), '900');
            assert.match(q.get('X-Amz-Signature') ?? '', /^[0-9a-f]{64}$/);
          }
          const tokens = server.logins.map((l) => l.token);
          assert.equal(new Set(tokens).size, tokens.length, 'each connection signs a new token');
          assertClientError(await http(`${app.url}/readyz`), 503, 'refused token');
        } finally {
          assert.equal(await app.process.stop('SIGTERM'), 0);
        }
      } finally {
        await server.close();
      }
    }, 60_000),

    test('DB_AUTH=iam refuses to start without required TLS', async () => {
      const app = await stack.startApp({
        name: 'iam-no-tls',
        env: { DB_AUTH: 'iam', DB_USER: DB_USER, DB_TLS: 'preferred', DB_SECRET_ARN: '' },
        wait: 'none',
      });
      await app.process.exited;
      assert.equal(app.process.exitCode, 1);
      assert.match(readFileSync(app.process.logFile, 'utf8'), /configuration error: DB_AUTH=iam sends a token as a clear-text password: DB_TLS must be required/);
    }),
  ];
}

interface IamLogin {
  readonly user: string;
  readonly token: string;
  readonly tls: boolean;
}

/**
 * Speaks the start of the MySQL protocol the way RDS does for a user identified with
 * AWSAuthenticationPlugin: offers TLS, asks the client to switch to `mysql_clear_password`, records
 * the token it gets, and refuses it (ER_ACCESS_DENIED_ERROR).
 */
export class FakeIamServer {
  public static async start(certFile: string, keyFile: string): Promise<FakeIamServer> {
    const port = await freePort();
    const fake = new FakeIamServer(port, readFileSync(certFile), readFileSync(keyFile));
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(port, '127.0.0.1', () => resolve());
    });
    return fake;
  }

  public readonly logins: IamLogin[] = [];
  public readonly plaintextLogins: string[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(public readonly port: number, cert: Buffer, key: Buffer) {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      this.serve(socket, cert, key);
    });
  }

  public async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: Socket, cert: Buffer, key: Buffer): void {
    send(socket, 0, handshake());
    readPacket(socket, (seq, payload) => {
      const flags = payload.readUInt32LE(0);
      if (payload.length === 32 && hasFlag(flags, CLIENT_SSL)) {
        const secure = new TLSSocket(socket, { isServer: true, cert, key });
        secure.on('error', () => undefined);
        readPacket(secure, (seq2, response) => {
          const user = readCString(response, 32);
          send(secure, seq2 + 1, Buffer.concat([Buffer.from([0xfe]), Buffer.from('mysql_clear_password\0'), Buffer.alloc(20, 1), Buffer.from([0])]));
          readPacket(secure, (seq3, tokenPacket) => {
            this.logins.push({ user, token: readCString(tokenPacket, 0), tls: true });
            send(secure, seq3 + 1, accessDenied(user));
            secure.end();
          });
        });
      } else {
        // A login without TLS: record it (the token would be readable) and refuse.
        this.plaintextLogins.push(readCString(payload, 32));
        send(socket, seq + 1, accessDenied('?'));
        socket.end();
      }
    });
  }
}

const CLIENT_SSL = 0x800;
/**
 * LONG_PASSWORD, LONG_FLAG, CONNECT_WITH_DB, PROTOCOL_41, SSL, TRANSACTIONS, SECURE_CONNECTION,
 * MULTI_RESULTS, PLUGIN_AUTH, PLUGIN_AUTH_LENENC_CLIENT_DATA (distinct bits: their sum is their union).
 */
const SERVER_CAPABILITIES = [0x1, 0x4, 0x8, 0x200, CLIENT_SSL, 0x2000, 0x8000, 0x20000, 0x80000, 0x200000].reduce((a, b) => a + b, 0);

/** Whether a single-bit flag is set. */
const hasFlag = (flags: number, flag: number) => Math.floor(flags / flag) % 2 === 1;

function handshake(): Buffer {
  const caps = Buffer.alloc(4);
  caps.writeUInt32LE(SERVER_CAPABILITIES);
  return Buffer.concat([
    Buffer.from([10]), Buffer.from('8.0.39-fake-rds\0'), Buffer.from([1, 0, 0, 0]),
    Buffer.alloc(8, 0x41), Buffer.from([0]),
    caps.subarray(0, 2), Buffer.from([255]), Buffer.from([2, 0]), caps.subarray(2, 4),
    Buffer.from([21]), Buffer.alloc(10),
    Buffer.alloc(12, 0x42), Buffer.from([0]),
    Buffer.from('mysql_native_password\0'),
  ]);
}

function accessDenied(user: string): Buffer {
  const errno = Buffer.alloc(2);
  errno.writeUInt16LE(1045);
  return Buffer.concat([Buffer.from([0xff]), errno, Buffer.from('#28000'), Buffer.from(`Access denied for user '${user}'@'127.0.0.1' (using password: YES)`)]);
}

function send(socket: Socket, seq: number, payload: Buffer): void {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = seq % 256;
  socket.write(Buffer.concat([header, payload]));
}

/**
 * Calls `onPacket` with the next whole packet from the socket, once. Bytes after it (a TLS client
 * hello sent right behind the SSL request) are put back, paused, for whoever reads next.
 */
function readPacket(socket: Socket, onPacket: (seq: number, payload: Buffer) => void): void {
  let buffered = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (buffered.length < 4) return;
    const length = buffered.readUIntLE(0, 3);
    if (buffered.length < 4 + length) return;
    socket.off('data', onData);
    socket.pause();
    const rest = buffered.subarray(4 + length);
    if (rest.length > 0) socket.unshift(rest);
    onPacket(buffered[3]!, buffered.subarray(4, 4 + length));
  };
  socket.on('data', onData);
  socket.resume();
}

function readCString(buffer: Buffer, offset: number): string {
  const end = buffer.indexOf(0, offset);
  return buffer.toString('utf8', offset, end < 0 ? buffer.length : end);
}
