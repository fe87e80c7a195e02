import * as v8 from 'v8';

/**
 * Works around a V8 optimizing-compiler stall seen with Node.js 20 on this suite: TurboFan's escape
 * analysis can spend minutes on a hot aws-cdk-lib function (token resolution), and Node waits for
 * the pending compile job before the process may exit, so Jest hung after the last test. Turning
 * escape analysis off costs nothing measurable here.
 *
 * Imported first by the test helpers; listing this file in Jest's `setupFiles` applies it to every
 * test file.
 */
v8.setFlagsFromString('--no-turbo-escape');
