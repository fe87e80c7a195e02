import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Fn, Lazy, Token } from 'aws-cdk-lib';
import * as fc from 'fast-check';
import { HOSTILE_STRINGS, resolvedText, seedOf, TestApps, tokenName } from './support/hostile';
import { renderStartScript } from '../src/app/boot';
import { shellArg, writeFileCommands } from '../src/private/shell';
import { renderEnvironmentFile, renderUnit, systemdEnvironmentValue } from '../src/private/systemd';

/*
 * The pure renderers the boot scripts are made of, checked by the shell that runs them: a value
 * put on a command line by `shellArg` is read back by bash byte for byte, and a file written by
 * `writeFileCommands` holds exactly its content, whatever either holds.
 */

const apps = new TestApps();
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'shell-test-'));

afterAll(() => {
  apps.dispose();
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** Runs a bash script (read from stdin); fails on a non-zero exit or anything on stderr. */
function bash(script: string): Buffer {
  const result = spawnSync('bash', ['-s'], { input: script, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  expect(result.stderr.toString('utf8')).toBe('');
  expect(result.status).toBe(0);
  return result.stdout;
}

/** The bytes bash gives back for each shell word: `printf '%s\0' WORD` per value, in one run. */
function wordsAsBashReadsThem(words: string[]): Buffer[] {
  const out = bash(words.map((w) => `printf '%s\\0' ${w}`).join('\n'));
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < out.length; i++) {
    if (out[i] === 0) {
      parts.push(out.subarray(start, i));
      start = i + 1;
    }
  }
  return parts;
}

/**
 * Literal strings (CDK reads token-looking text as a token) without NUL (the one byte a shell word
 * cannot hold), from the table and generated.
 */
const VALUES = [
  ...HOSTILE_STRINGS.map(([, v]) => v),
  "'\\''", "''", '\'"\'"\'', '\\', '!', '!!', '$', '$$', '"$@"', '*', '?', '[a]', '~', '~root', '-n', '--', '-e \\n', '\n', '',
].filter((v) => !v.includes('\0') && !Token.isUnresolved(v));
const GENERATED = fc.sample(fc.oneof(fc.string({ maxLength: 50 }), fc.fullUnicodeString({ maxLength: 50 }), fc.string16bits({ maxLength: 30 })), { seed: seedOf('shell.shellArg'), numRuns: 500 })
  .filter((v) => !v.includes('\0'));

describe('shellArg', () => {
  test('bash reads every literal back as exactly one word, byte for byte', () => {
    const values = [...VALUES, ...GENERATED];
    const read = wordsAsBashReadsThem(values.map(shellArg));
    expect(read.length).toBe(values.length);
    const wrong = values.filter((v, i) => !read[i].equals(Buffer.from(v, 'utf8')));
    expect(wrong).toEqual([]);
  });

  test('a literal is one single-quoted word: nothing in it is interpreted', () => {
    expect(shellArg("it's $(id)")).toBe("'it'\\''s $(id)'");
    expect(shellArg('')).toBe("''");
  });

  test('a NUL byte is refused', () => {
    expect(() => shellArg('a\0b')).toThrow(/NUL/);
  });

  test('a token never appears as shell text: it is decoded from base64 inside double quotes', () => {
    const stack = apps.stack();
    const hostile = "a'b \"c\" $(touch /tmp/pwned) `id` \\ \n end";
    const token = Lazy.string({ produce: () => hostile });
    const word = resolvedText(stack, shellArg(token));
    expect(word).toMatch(/^"\$\(printf '%s' [A-Za-z0-9+/=]+ \| base64 -d\)"$/);
    expect(word).not.toContain('pwned');
    expect(wordsAsBashReadsThem([word])[0].toString('utf8')).toBe(hostile.replace(/\n+$/, ''));
  });

  test('a resource attribute token reads back as the value it resolves to', () => {
    const stack = apps.stack();
    const word = resolvedText(stack, shellArg(`s3://${Fn.ref('Bucket')}/key with space/`));
    expect(wordsAsBashReadsThem([word])[0].toString('utf8')).toBe(`s3://${tokenName({ Ref: 'Bucket' })}/key with space/`);
  });
});

describe('writeFileCommands', () => {
  const owner = `${process.getuid!()}:${process.getgid!()}`;

  test('every file holds exactly its content, with its mode', () => {
    const contents = [
      ...VALUES,
      'CDK_THREE_TIER_EOF\n', 'EOF', '\nEOF\n', "'EOF'", '#!/bin/sh\nexit 1\n', 'no newline at the end', '\\', 'x'.repeat(100_000),
    ];
    const dir = fs.mkdtempSync(path.join(scratch, 'files'));
    const files = contents.map((content, i) => ({ path: `${dir}/f${i}.txt`, content, mode: i % 2 ? '0640' : '0600', owner }));
    bash(files.flatMap(writeFileCommands).join('\n'));
    const wrong = files.filter((f) => !fs.readFileSync(f.path).equals(Buffer.from(f.content, 'utf8'))
      || (fs.statSync(f.path).mode % 0o1000) !== parseInt(f.mode, 8));
    expect(wrong.map((f) => f.path)).toEqual([]);
  });

  test('generated contents: the command carries exactly their bytes (the shell run above shows the command writes what it carries)', () => {
    const wrong = GENERATED.filter((content) => {
      const line = writeFileCommands({ path: '/etc/x', content, mode: '0644' })[1];
      const m = /^printf '%s' ([A-Za-z0-9+/=]*) \| base64 -d > '\/etc\/x'$/.exec(line);
      return !m || !Buffer.from(m[1], 'base64').equals(Buffer.from(content, 'utf8'));
    });
    expect(wrong).toEqual([]);
  });

  test('content holding tokens travels through Fn::Base64 and decodes to the resolved text', () => {
    const stack = apps.stack();
    const dir = fs.mkdtempSync(path.join(scratch, 'tokens'));
    const content = `host=${Fn.getAtt('Db', 'Endpoint.Address').toString()}\nquote='\nEOF\n`;
    const commands = writeFileCommands({ path: `${dir}/app.env`, content, mode: '0644', owner });
    const script = resolvedText(stack, commands.join('\n'));
    expect(script).not.toContain('quote=');
    bash(script);
    expect(fs.readFileSync(`${dir}/app.env`, 'utf8')).toBe(`host=${tokenName({ 'Fn::GetAtt': ['Db', 'Endpoint.Address'] })}\nquote='\nEOF\n`);
  });

  test.each([
    ['a relative path', 'etc/app.env'],
    ['a path with a space', '/etc/app env'],
    ['a path with a quote', "/etc/app'.env"],
    ['a path with a newline', '/etc/app\n.env'],
    ['a path with a variable', '/etc/$HOME'],
    ['a directory', '/etc/'],
  ])('refuses %s', (_, p) => {
    expect(() => writeFileCommands({ path: p, content: 'x', mode: '0644' })).toThrow(/not a safe absolute path/);
  });

  test.each(['644', '0999', '0644; rm -rf /', 'u+x'])('refuses the mode %j', (mode) => {
    expect(() => writeFileCommands({ path: '/etc/x', content: 'x', mode })).toThrow(/not an octal mode/);
  });
});

describe('renderStartScript', () => {
  test.each(HOSTILE_STRINGS.filter(([, v]) => !/[\0\n\r]/.test(v) && v.trim() !== '' && v.length < 1000))('the command is line 3, exactly: %s', (_, command) => {
    const lines = renderStartScript(command).split('\n');
    expect(lines).toEqual(['#!/bin/sh', expect.stringMatching(/^# /), command, '']);
  });

  test('/bin/sh runs the command as written: quotes, %, $ and backquotes are the shell\'s', () => {
    const dir = fs.mkdtempSync(path.join(scratch, 'start'));
    const script = path.join(dir, 'start.sh');
    fs.writeFileSync(script, renderStartScript("printf '%s|' \"$GREETING\" '100%' \"$(printf x)\" `printf y`"));
    const result = spawnSync('/bin/sh', [script], { env: { GREETING: 'hello world' }, encoding: 'utf8' });
    expect(result.stdout).toBe('hello world|100%|x|y|');
  });
});

describe('renderEnvironmentFile and systemdEnvironmentValue', () => {
  test('double-quoted, with exactly \\ " $ and backquote escaped', () => {
    expect(systemdEnvironmentValue('C:\\data\\ "x" $HOME `id` \'%Q\' #;\n')).toBe('"C:\\\\data\\\\ \\"x\\" \\$HOME \\`id\\` \'%Q\' #;\n"');
  });

  test('one line per name, sorted by name, each ending with a newline', () => {
    expect(renderEnvironmentFile({ B: '2', A: '1' })).toBe('A="1"\nB="2"\n');
  });

  test('the literal text around a token is escaped; the token is left to CloudFormation', () => {
    const stack = apps.stack();
    const value = `"${Fn.ref('AWS::Region')}" \\`;
    expect(resolvedText(stack, systemdEnvironmentValue(value))).toBe(`"\\"${tokenName({ Ref: 'AWS::Region' })}\\" \\\\"`);
  });
});

describe('renderUnit', () => {
  test('sections in order, key=value lines, a blank line between sections, a final newline', () => {
    expect(renderUnit([['Unit', [['Description', 'x']]], ['Service', [['ExecStart', '/bin/true'], ['User', 'app']]]]))
      .toBe('[Unit]\nDescription=x\n\n[Service]\nExecStart=/bin/true\nUser=app\n');
  });
});
