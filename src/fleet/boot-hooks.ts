/**
 * A file written on each instance at boot, before the library's own boot steps.
 */
export interface BootFile {
  /**
   * Absolute path of the file: segments of letters, digits and `_ . -` (no empty, `.` or `..`
   * segments). Parent directories are created. Not a path the library writes itself (its NGINX
   * configuration, systemd units, environment file or start script).
   */
  readonly path: string;

  /**
   * Content of the file, written byte for byte (it travels base64-encoded, so nothing in it is read
   * as shell). May hold tokens, e.g. a bucket name: CloudFormation resolves them.
   */
  readonly content: string;

  /**
   * Octal mode of the file (3 or 4 octal digits, e.g. `'0600'` or `'755'`).
   *
   * @default '0644'
   */
  readonly mode?: string;

  /**
   * Owner of the file as `user` or `user:group` (Unix names: a lower-case letter or `_`, then up
   * to 31 lower-case letters, digits, `_` or `-`). The user and group must exist when the file is
   * written (before the library's own steps).
   *
   * @default 'root:root'
   */
  readonly owner?: string;
}

/**
 * Your own steps in an instance's boot script. The boot script runs as root under
 * `set -euo pipefail`, in this order: the hook files are written, `beforeCommands` run, the
 * library's own steps run (packages, configuration, services, and the library's health check),
 * `afterCommands` run, and the instance signals success to CloudFormation. A hook command that
 * fails fails the boot: the instance signals failure and the deployment rolls back.
 *
 * Commands are your own shell code, run as written: never build them from values you do not
 * control. Put values from elsewhere (names, settings, documents) in `files` and read them from
 * there. Everything counts toward EC2's 16 KB limit on user data, which is checked at synth.
 */
export interface BootHooks {
  /**
   * Files written first, before any command.
   *
   * @default - none
   */
  readonly files?: BootFile[];

  /**
   * Shell commands run after the files are written and before the library's own steps (e.g. to
   * install an agent or add a package repository).
   *
   * @default - none
   */
  readonly beforeCommands?: string[];

  /**
   * Shell commands run after the library's own steps and its health check passed, before the
   * instance signals success (e.g. to register the instance, or to run a smoke test).
   *
   * @default - none
   */
  readonly afterCommands?: string[];
}
