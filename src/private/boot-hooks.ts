import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { shellArg, writeFileCommands } from './shell';
import { checkTokenSource, invalid, isSafeAbsolutePath } from './validation';
import { BootFile, BootHooks } from '../fleet/boot-hooks';

/** A Unix user or group name. */
const UNIX_NAME = '[a-z_][a-z0-9_-]{0,31}';
/** `user` or `user:group`. */
const OWNER = new RegExp(`^${UNIX_NAME}(:${UNIX_NAME})?$`);
/** A file mode of 3 or 4 octal digits. */
const MODE = /^[0-7]{3,4}$/;
/** The path grammar `writeFileCommands` accepts (a subset of `isSafeAbsolutePath`). */
const FILE_PATH = /^(\/[A-Za-z0-9_.-]+)+$/;

/** The boot hooks as boot-script lines: what runs before the library's steps and what runs after. */
export interface RenderedBootHooks {
  /** The hook files, then `beforeCommands`. */
  readonly before: string[];
  /** `afterCommands`. */
  readonly after: string[];
}

/**
 * Renders boot hooks (validated with `checkBootHooks`) as boot-script lines: each file written
 * with `writeFileCommands` (base64, never a heredoc), then the commands as given.
 */
export function renderBootHooks(hooks: BootHooks | undefined): RenderedBootHooks {
  return {
    before: [...(hooks?.files ?? []).flatMap(renderBootFile), ...(hooks?.beforeCommands ?? [])],
    after: [...(hooks?.afterCommands ?? [])],
  };
}

/** One hook file: written with mode 0XXX; the set-user-ID, set-group-ID and sticky bits applied after. */
function renderBootFile(file: BootFile): string[] {
  const mode = (file.mode ?? '0644').padStart(4, '0');
  const special = mode[0] !== '0';
  const commands = writeFileCommands({ path: file.path, content: file.content, mode: `0${mode.slice(1)}`, owner: file.owner ?? 'root:root' });
  return special ? [...commands, `chmod ${mode} ${shellArg(file.path)}`] : commands;
}

/**
 * Validates boot hooks: files with a safe absolute path that the library does not write itself
 * (`reservedPaths`) and that no other hook file writes, a 3-4 digit octal mode, a `user[:group]`
 * owner; commands that are strings without NUL bytes, whose tokens stand for AWS-generated values.
 */
export function checkBootHooks(scope: IConstruct, prop: string, hooks: BootHooks | undefined, reservedPaths: string[]): void {
  if (hooks === undefined) return;
  if (hooks === null || typeof hooks !== 'object' || Array.isArray(hooks)) invalid(scope, prop, hooks, 'must be an object with files, beforeCommands and afterCommands');
  const files = checkList(scope, `${prop}.files`, hooks.files);
  const seen = new Set<string>();
  files.forEach((file, i) => {
    checkBootFile(scope, `${prop}.files[${i}]`, file, reservedPaths);
    if (seen.has(file.path)) invalid(scope, `${prop}.files[${i}].path`, file.path, 'must not repeat the path of another hook file');
    seen.add(file.path);
  });
  for (const key of ['beforeCommands', 'afterCommands'] as const) {
    checkList(scope, `${prop}.${key}`, hooks[key]).forEach((command, i) => checkCommand(scope, `${prop}.${key}[${i}]`, command));
  }
}

function checkList<T>(scope: IConstruct, prop: string, list: T[] | undefined): T[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) invalid(scope, prop, list, 'must be a list');
  return list;
}

function checkBootFile(scope: IConstruct, prop: string, file: BootFile, reservedPaths: string[]): void {
  if (file === null || typeof file !== 'object') invalid(scope, prop, file, 'must be an object with path and content');
  const path = file.path;
  if (typeof path !== 'string' || Token.isUnresolved(path) || !isSafeAbsolutePath(path) || !FILE_PATH.test(path)) {
    invalid(scope, `${prop}.path`, path, "must be a literal absolute file path of letters, digits and _ . - (no empty, '.' or '..' segments, no trailing '/'; at most 1024 characters)");
  }
  if (reservedPaths.includes(path)) {
    invalid(scope, `${prop}.path`, path, `must not be a path the library writes itself (${reservedPaths.join(', ')})`);
  }
  if (typeof file.content !== 'string') invalid(scope, `${prop}.content`, file.content, 'must be a string');
  if (file.mode !== undefined && (typeof file.mode !== 'string' || !MODE.test(file.mode))) {
    invalid(scope, `${prop}.mode`, file.mode, "must be a literal octal mode of 3 or 4 digits 0-7, e.g. '0644' or '755'");
  }
  if (file.owner !== undefined && (typeof file.owner !== 'string' || !OWNER.test(file.owner))) {
    invalid(scope, `${prop}.owner`, file.owner, 'must be user or user:group (Unix names: a lower-case letter or _, then up to 31 lower-case letters, digits, _ or -)');
  }
}

function checkCommand(scope: IConstruct, prop: string, command: string): void {
  if (typeof command !== 'string') invalid(scope, prop, command, 'must be a string of shell code');
  if (command.includes('\0')) invalid(scope, prop, command, 'must not hold a NUL byte (the shell cannot run it)');
  checkTokenSource(scope, prop, command);
}
