import { Fn, Token } from 'aws-cdk-lib';

/**
 * The one way the boot scripts put a value on a command line: as exactly one shell word that the
 * shell reads back byte for byte, whatever the value holds.
 *
 * - A literal is single-quoted; a single quote inside it becomes `'\''` (close, escaped quote, reopen).
 *   Inside single quotes the shell interprets nothing: not `$`, backslashes, backquotes or newlines.
 * - A token (known only at deploy time) cannot be escaped at synth time, so it never appears as shell
 *   text: CloudFormation base64-encodes it (`Fn::Base64`, whose alphabet is `A-Za-z0-9+/=`) and the
 *   shell decodes it inside a double-quoted command substitution, so its value is never parsed.
 *   (Command substitution drops trailing newlines; AWS resource attributes have none.)
 *
 * A NUL byte cannot be passed in a shell word: it is refused.
 */
export function shellArg(value: string): string {
  if (Token.isUnresolved(value)) {
    return `"$(printf '%s' ${Fn.base64(value)} | base64 -d)"`;
  }
  if (value.includes('\0')) throw new Error('a shell argument cannot hold a NUL byte');
  return `'${value.replace(/'/g, "'\\''")}'`;
}

/** A file the boot script writes. */
export interface BootFile {
  /** Absolute path, chosen by the library (never by user input). */
  readonly path: string;
  /** The content; may hold tokens (resolved by CloudFormation). */
  readonly content: string;
  /** Octal mode, e.g. `0644`. */
  readonly mode: string;
  /** `user:group`. @default root:root */
  readonly owner?: string;
}

/**
 * The commands that write a file with exactly the given content: the content travels base64-encoded
 * (computed here for literals, by CloudFormation's `Fn::Base64` when it holds tokens), so no byte of
 * it is ever read as shell, and no heredoc terminator can end it early.
 */
export function writeFileCommands(file: BootFile): string[] {
  if (!/^(\/[A-Za-z0-9_.-]+)+$/.test(file.path)) throw new Error(`boot file path '${file.path}' is not a safe absolute path`);
  if (!/^0[0-7]{3}$/.test(file.mode)) throw new Error(`boot file mode '${file.mode}' is not an octal mode`);
  const encoded = Token.isUnresolved(file.content)
    ? Fn.base64(file.content)
    : Buffer.from(file.content, 'utf8').toString('base64');
  const path = shellArg(file.path);
  const directory = shellArg(file.path.slice(0, file.path.lastIndexOf('/')) || '/');
  return [
    `mkdir -p ${directory}`,
    `printf '%s' ${encoded} | base64 -d > ${path}`,
    `chown ${shellArg(file.owner ?? 'root:root')} ${path}`,
    `chmod ${file.mode} ${path}`,
  ];
}
