import * as fs from 'fs';
import { Duration } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { markers, readBlock, README_BLOCKS, README_PATH, renderReadme, replaceBlock, UPDATE_COMMAND } from '../scripts/lib/readme-blocks';
import { DEFAULTS_ROWS, renderBackupRules, renderDefaultsTable, renderDuration, renderNatMode, renderOffHours, renderRetention, TABLE_PRESETS } from '../scripts/lib/readme-tables';
import { NatMode, OffHoursSchedule, Preset } from '../src';

const readme = fs.readFileSync(README_PATH, 'utf8');
/** Whether the installed aws-cdk-lib is the one this package is developed with (the README's). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const onPinnedCdk = require('aws-cdk-lib/package.json').version === require('../package.json').devDependencies['aws-cdk-lib'];

describe('generated README blocks are up to date', () => {
  test.each(README_BLOCKS.map((b) => [b.name, b] as const))('%s', (name, block) => {
    const current = readBlock(readme, name);
    if (current === undefined) {
      const { start, end } = markers(name);
      throw new Error(`README.md has no ${start} ... ${end} block: add the markers, then run ${UPDATE_COMMAND}`);
    }
    let rendered = block.render();
    if (name === 'compliance-counts' && !onPinnedCdk) {
      // The README documents the aws-cdk-lib this package is built with. On a newer release (the
      // forward-compatibility run) aws-cdk-lib's own resources can differ (e.g. the provider
      // framework's runtime), which moves how many findings the library acknowledges, never how
      // many are open: compare everything but those counts.
      const mask = (text: string) => text.replace(/(\d+ open \/ )\d+( acknowledged)/g, '$1N$2');
      if (mask(current) === mask(rendered)) rendered = current;
    }
    if (current !== rendered) {
      throw new Error(`README.md block '${name}' is out of date: run ${UPDATE_COMMAND}\n\n--- README.md\n${current}\n\n--- rendered\n${rendered}\n`);
    }
  });
});

describe('defaults table', () => {
  const table = renderDefaultsTable();
  const rows = table.split('\n');

  test('one column per preset, one row per PresetValues field (name is the header)', () => {
    expect(rows[0]).toBe('| Setting | dev | staging | prod |');
    expect(rows[1]).toBe('| --- | --- | --- | --- |');
    // Every field a built-in preset sets (dev sets no backup rules, prod no off-hours schedule).
    const fields = [...new Set(TABLE_PRESETS().flatMap((p) => Object.keys(p.values)))].filter((f) => f !== 'name').sort();
    expect(Object.keys(DEFAULTS_ROWS).sort()).toEqual(fields);
    expect(rows).toHaveLength(2 + fields.length);
    for (const row of rows) expect(row.split(' | ')).toHaveLength(4);
  });

  test.each([
    ['maxAzs', '2 | 2 | 3'],
    ['natMode', '`NatMode.instance(t3.nano)` | `NatMode.singleGateway()` | `NatMode.gatewayPerAz()`'],
    ['interfaceEndpoints', 'none | none | `ssm`, `ssmmessages`, `ec2messages`, `secretsmanager`, `logs`, `kms`, `cloudformation`, `monitoring`, `ec2`'],
    ['flowLogRetention', '1 week | 1 month | 1 year'],
    ['accessLogExpirationDays', '30 days | 90 days | 365 days'],
    ['loadBalancerDeletionProtection', 'no | no | yes'],
    ['webInstanceType', '`t3.micro` | `t3.small` | `m7i.large`'],
    ['databaseInstanceType', '`db.t4g.micro` | `db.t4g.medium` | `db.r7g.large`'],
    ['backupRetention', '1 day | 7 days | 30 days'],
    ['databaseRemovalPolicy', '`DESTROY` | `SNAPSHOT` | `SNAPSHOT`'],
    ['monitoringInterval', '60 seconds | 60 seconds | 30 seconds'],
    ['spotInstances', 'spot over same-size instance types (on-demand fallback: none; see `onDemandBaseCapacity`) | on-demand | on-demand'],
    ['offHoursSchedule', 'running 07:00-20:00 Mon-Fri (UTC), scaled to zero otherwise | running 07:00-20:00 Mon-Fri (UTC), scaled to zero otherwise | always on'],
    ['backupRules', 'no backup plan | daily 7 days, weekly 35 days | daily 35 days, weekly 84 days, monthly 365 days'],
    ['monthlyBackups', 'no | no | yes'],
    ['logRetention', '1 week | 1 month | 1 year'],
    ['alarmThresholds', [
      '5xx 5%, p99 3 s, fleet CPU/memory/disk 90/90/90%, DB CPU 90%, DB free storage 2 GiB, DB freeable memory 64 MiB, DB connections 60, WAF blocked 100/5 min',
      '5xx 2%, p99 2 s, fleet CPU/memory/disk 85/85/85%, DB CPU 85%, DB free storage 5 GiB, DB freeable memory 256 MiB, DB connections 270, WAF blocked 200/5 min',
      '5xx 1%, p99 1.5 s, fleet CPU/memory/disk 80/80/80%, DB CPU 80%, DB free storage 20 GiB, DB freeable memory 1024 MiB, DB connections 1000, WAF blocked 500/5 min',
    ].join(' | ')],
    ['monthlyBudgetUsd', '150 USD | 500 USD | 3000 USD'],
  ])('%s reads %s', (field, cells) => {
    const row = rows.find((r) => r.includes(`(\`${field}\`) |`));
    expect(row).toBeDefined();
    expect(row!.endsWith(` | ${cells} |`)).toBe(true);
  });

  test('value renderers', () => {
    expect(renderRetention(logs.RetentionDays.ONE_DAY)).toBe('1 day');
    expect(renderRetention(logs.RetentionDays.TWO_WEEKS)).toBe('2 weeks');
    expect(renderRetention(logs.RetentionDays.THIRTEEN_MONTHS)).toBe('13 months');
    expect(renderRetention(logs.RetentionDays.TEN_YEARS)).toBe('10 years');
    expect(renderRetention(logs.RetentionDays.INFINITE)).toBe('never expires');
    expect(renderRetention(42 as logs.RetentionDays)).toBe('42 days');
    expect(renderNatMode(NatMode.none())).toBe('`NatMode.none()`');
    expect(renderNatMode(NatMode.instance(ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.NANO)))).toBe('`NatMode.instance(t4g.nano)`');
    expect(renderDuration(Duration.days(35))).toBe('35 days');
    expect(renderDuration(Duration.seconds(1))).toBe('1 second');
    expect(renderDuration(Duration.seconds(0))).toBe('off');
    expect(renderOffHours(undefined)).toBe('always on');
    expect(renderOffHours(OffHoursSchedule.alwaysOn())).toBe('always on');
    expect(renderOffHours(OffHoursSchedule.weekdays({ startHour: 8, endHour: 18, timeZone: 'Europe/Berlin' })))
      .toBe('running 08:00-18:00 Mon-Fri (Europe/Berlin), scaled to zero otherwise');
    expect(renderOffHours(OffHoursSchedule.cron({
      scaleDown: autoscaling.Schedule.cron({ minute: '30', hour: '22', weekDay: 'SAT' }),
      scaleUp: autoscaling.Schedule.cron({ minute: '0', hour: '6', weekDay: 'MON' }),
    }))).toBe('scaled to zero at `30 22 * * SAT`, back up at `0 6 * * MON` (UTC)');
    const staging = Preset.staging().values;
    expect(renderBackupRules({ ...staging, backupRules: undefined, monthlyBackups: true })).toBe('daily 35 days, monthly 365 days');
    expect(renderBackupRules({ ...staging, backupRules: undefined, monthlyBackups: false })).toBe('daily 35 days');
    expect(renderBackupRules({ ...staging, backupRules: { monthly: Duration.days(730) } })).toBe('monthly 730 days');
    expect(renderBackupRules({ ...staging, backupPlan: false })).toBe('no backup plan');
    expect(DEFAULTS_ROWS.monthlyBudgetUsd.render({ ...staging, monthlyBudgetUsd: undefined })).toBe('none');
    expect(DEFAULTS_ROWS.logRetention.render({ ...staging, logRetention: undefined })).toBe('1 month');
    expect(DEFAULTS_ROWS.spotInstances.render({ ...staging, spotInstances: undefined })).toBe('on-demand');
  });
});

describe('update-readme', () => {
  const sample = ['# Title', '', '<!-- defaults-table:start -->', 'old', 'lines', '<!-- defaults-table:end -->', '', 'after', ''].join('\n');

  test('replaces only the text between the markers, and is idempotent', () => {
    const once = replaceBlock(sample, 'defaults-table', 'new');
    expect(once).toBe(['# Title', '', '<!-- defaults-table:start -->', 'new', '<!-- defaults-table:end -->', '', 'after', ''].join('\n'));
    expect(replaceBlock(once, 'defaults-table', 'new')).toBe(once);
    expect(readBlock(once, 'defaults-table')).toBe('new');
  });

  test('renders every listed block', () => {
    const blocks = [{ name: 'defaults-table', render: () => 'a' }, { name: 'other', render: () => 'b' }];
    const text = `${sample}<!-- other:start -->\n<!-- other:end -->\n`;
    const rendered = renderReadme(text, blocks);
    expect(readBlock(rendered, 'defaults-table')).toBe('a');
    expect(readBlock(rendered, 'other')).toBe('b');
  });

  test('missing or broken markers are errors, not silent appends', () => {
    expect(() => replaceBlock('# Title\n', 'defaults-table', 'x')).toThrow(/no block 'defaults-table'.*\n<!-- defaults-table:start -->/s);
    expect(() => replaceBlock('<!-- defaults-table:start -->\n', 'defaults-table', 'x')).toThrow(/no <!-- defaults-table:end -->/);
    expect(() => readBlock(`${sample}${sample}`, 'defaults-table')).toThrow(/more than once/);
    expect(readBlock('# Title\n', 'defaults-table')).toBeUndefined();
  });
});
