import { parseArgs, ParseArgsConfig } from 'node:util';
import { UserError } from './tools';

/** The options of a task, in `node:util` `parseArgs` form. */
export type TaskOptions = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses a task's arguments strictly with `node:util` `parseArgs` (unknown options and stray
 * positionals are errors), the way the README writes them: `npx projen TASK -- --flag` passes the
 * `--` through to the script, so one leading `--` is dropped. `--help` (or `-h`) prints the usage
 * and exits 0; an error names the argument and ends with the usage.
 */
export function parseTaskArgs<O extends TaskOptions>(argv: string[], options: O, usage: string): ParsedValues<O> {
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UserError(`${(e as Error).message}\n${usage}`);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  return values as ParsedValues<O>;
}

/** The values `parseArgs` returns for these options. */
type ParsedValues<O extends TaskOptions> = ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>>['values'];
