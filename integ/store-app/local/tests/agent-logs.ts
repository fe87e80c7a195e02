import { strict as assert } from 'assert';
import { existsSync, readFileSync, statSync } from 'fs';
import { request } from 'http';
import { join } from 'path';
import { agentLogFilePaths, renderAgentConfig } from '../../../../src/private/cloudwatch-agent';
import { nginxLogSources } from '../../../../src/web/web-tier';
import { test, TestCase } from '../harness';
import { http } from '../http';
import { waitFor } from '../processes';
import { LocalStack } from '../stack';

/**
 * The CloudWatch agent ships the NGINX log files it finds in the agent configuration, which the web
 * tier renders from its NGINX configuration: rendered here the same way from the configuration
 * the local NGINX runs, those files must exist and receive NGINX's lines. (The system log and the
 * API's output file come from rsyslog and systemd on the instances, which the local tiers do not run.)
 */
export function agentLogTests(stack: LocalStack): TestCase[] {
  return [
    test('CloudWatch agent: the NGINX log files of the rendered agent configuration exist and receive lines', async () => {
      const nginxConfig = readFileSync(stack.nginxConfigFile, 'utf8');
      const sources = nginxLogSources(nginxConfig);
      const files = agentLogFilePaths(renderAgentConfig({ logFiles: sources.map((s) => ({ filePath: s.filePath, logGroupName: s.id })) }));
      assert.deepEqual(files, [join(stack.logDir, 'access.log'), join(stack.logDir, 'error.log')], 'the agent ships the files NGINX was configured with');
      for (const file of files) assert.ok(existsSync(file), `${file} exists`);
      const size = (file: string) => statSync(file).size;
      const [access, error] = files;
      const before = { access: size(access), error: size(error) };

      const marker = `/agent-log-check-${Date.now()}`;
      await http(`${stack.url}${marker}`);
      // A body over client_max_body_size: NGINX answers 413 and logs an error ("client intended to send too large body").
      // Only the headers are sent: NGINX refuses by Content-Length before it reads a body.
      assert.equal(await statusOfLargePost(`${stack.url}/api/cart`, 11 * 1024 * 1024), 413);

      await waitFor('NGINX log lines', async () => size(access) > before.access && size(error) > before.error, 10_000);
      assert.match(readFileSync(access, 'utf8').slice(before.access), new RegExp(`"GET ${marker} HTTP/1\\.1" `));
      assert.match(readFileSync(error, 'utf8').slice(before.error), /client intended to send too large body/);
    }),
  ];
}

/** The status NGINX answers a POST announcing `length` bytes, sent without its body. */
function statusOfLargePost(url: string, length: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'Content-Length': String(length), 'Content-Type': 'application/octet-stream' } }, (res) => {
      res.resume();
      req.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no answer to the large POST')));
    req.flushHeaders();
  });
}
