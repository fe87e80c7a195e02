import { Token, Tokenization } from 'aws-cdk-lib';

/** Names systemd, the dynamic loader or the shell give a meaning to: never set from user input. */
export const RESERVED_ENVIRONMENT_NAMES = [
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'PWD', 'IFS', 'ENV', 'BASH_ENV', 'SHELLOPTS', 'BASHOPTS', 'PS4',
  'LANG', 'TERM', 'TZ', 'TMPDIR', 'NOTIFY_SOCKET', 'INVOCATION_ID', 'JOURNAL_STREAM', 'LISTEN_FDS', 'LISTEN_PID',
  'LISTEN_FDNAMES', 'MAINPID', 'SERVICE_RESULT', 'EXIT_CODE', 'EXIT_STATUS', 'RUNTIME_DIRECTORY',
  'STATE_DIRECTORY', 'CACHE_DIRECTORY', 'LOGS_DIRECTORY', 'CONFIGURATION_DIRECTORY', 'CREDENTIALS_DIRECTORY',
  'NODE_OPTIONS', 'NODE_PATH', 'PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP',
];
/** Name prefixes reserved the same way (the dynamic loader's `LD_*`, systemd's own `SYSTEMD_*`). */
export const RESERVED_ENVIRONMENT_PREFIXES = ['LD_', 'SYSTEMD_', 'BASH_FUNC_'];

/** Why a name cannot be used, or undefined when it can. */
export function environmentNameProblem(name: string): string | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name)) {
    return 'must be 1 to 128 letters, digits and underscores, not starting with a digit';
  }
  const upper = name.toUpperCase();
  if (RESERVED_ENVIRONMENT_NAMES.includes(upper) || RESERVED_ENVIRONMENT_PREFIXES.some((p) => upper.startsWith(p))) {
    return `must not be a name the system gives a meaning to (${RESERVED_ENVIRONMENT_NAMES.slice(0, 6).join(', ')}, ..., or starting with ${RESERVED_ENVIRONMENT_PREFIXES.join(', ')})`;
  }
  return undefined;
}

/** Why a value cannot be carried, or undefined when it can. */
export function environmentValueProblem(value: string): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.includes('\0')) return 'must not hold a NUL byte (environment values are C strings)';
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value)) {
    return 'must be valid Unicode (systemd drops values that are not UTF-8)';
  }
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    if ((cp >= 0xfdd0 && cp <= 0xfdef) || cp % 0x10000 >= 0xfffe) {
      return `must not hold Unicode noncharacters (here U+${cp.toString(16).toUpperCase()}; U+FDD0 to U+FDEF, and U+FFFE and U+FFFF in every plane): systemd refuses the whole environment file, and the service would not start`;
    }
  }
  return undefined;
}

/**
 * One value escaped for systemd's environment-file grammar (`EnvironmentFile=`): double-quoted, with
 * `\`, `"`, `$` and backquote escaped by a backslash. Inside double quotes systemd keeps every other
 * byte as it is (spaces at either end, `%`, quotes of the other kind, newlines), so the process sees
 * exactly the value. A token cannot be escaped at synth time: the literal text around it is escaped,
 * the token is written as is (callers accept only tokens that stand for AWS-generated values and
 * hold no text of their own that needs escaping, see `checkTokenSource`).
 */
export function systemdEnvironmentValue(value: string): string {
  const escape = (text: string) => text.replace(/[\\"$`]/g, (c) => `\\${c}`);
  if (!Token.isUnresolved(value)) return `"${escape(value)}"`;
  if (value.includes('\0')) throw new Error('an environment value cannot hold a NUL byte');
  const tokens: string[] = [];
  const marked = Tokenization.reverseString(value)
    .mapTokens({ mapToken: (t) => `\0${tokens.push(Token.asString(t)) - 1}\0` })
    .join({ join: (left: any, right: any) => `${left}${right}` });
  return `"${escape(String(marked)).replace(/\0([0-9]+)\0/g, (_, i) => tokens[Number(i)])}"`;
}

/** The content of an environment file, one `NAME="value"` line per variable, sorted by name. */
export function renderEnvironmentFile(environment: { [name: string]: string }): string {
  return Object.keys(environment).sort()
    .map((name) => `${name}=${systemdEnvironmentValue(environment[name])}\n`)
    .join('');
}

/** A systemd unit file from sections of `key=value` lines (values are written by the library). */
export function renderUnit(sections: Array<[string, Array<[string, string]>]>): string {
  return sections.map(([name, entries]) => [`[${name}]`, ...entries.map(([k, v]) => `${k}=${v}`)].join('\n')).join('\n\n') + '\n';
}
