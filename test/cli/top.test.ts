/**
 * `top`: the dashboard's rendering from admin API answers, its plain lines when stdout is not a
 * terminal, and a real run on a terminal (tmux): the screen drawn, q quits, the terminal restored.
 */
import { execFileSync } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { CLI, runCli } from '../helpers/cli';
import { record, request } from '../helpers/builders';
import { eventually } from '../helpers/eventually';
import { exportLogs } from '../helpers/grpc-client';
import { useSharedService } from '../helpers/service-fixture';
import { parseTopArgs, renderDashboard, renderLine, type TopView } from '../../src/cli/top';
import { type StatusReport } from '../../src/telemetry/admin';
import { SEVERITY_BUCKETS, type TemplateSummary } from '../../src/processors/contract';

const c = (total: number, perSecond: number): { total: number; perSecond: number } => ({ total, perSecond });
const NOW = Date.parse('2026-01-01T12:00:00Z');

function status(extra: Partial<StatusReport> = {}): StatusReport {
  return {
    now: NOW,
    version: '1.2.3',
    uptimeSeconds: 3725,
    config: { receivers: [{ transport: 'grpc', endpoint: '0.0.0.0:4317' }], processors: ['classify', 'aggregate'], exporters: ['otlp'], workers: 2 },
    rateWindowSeconds: 10,
    receivers: [{ transport: 'grpc', accepted: c(5000, 250), refused: c(10, 1) }],
    processors: [
      { name: 'classify', incoming: c(5000, 250), outgoing: c(5000, 250), errors: c(0, 0), events: {} },
      { name: 'aggregate', incoming: c(5000, 250), outgoing: c(5000, 250), errors: c(0, 0), events: { error_spikes: c(1, 0.1) } },
    ],
    exporters: [{ name: 'otlp', sent: c(4900, 245), failedRequests: c(3, 0.5), queue: { size: 2500, capacity: 10000, bytes: 1 } }],
    drops: [{ component: 'exporter/otlp', reason: 'queue_full', count: c(7, 0.7) }],
    workers: { threads: 2, restarts: 0 },
    taps: 0,
    memory: { rssBytes: 200 * 1048576, heapUsedBytes: 50 * 1048576, heapTotalBytes: 80 * 1048576 },
    ...extra,
  };
}

function template(id: string, text: string, count: number, firstSeen: number, error = 0): TemplateSummary {
  const severities = Object.fromEntries(SEVERITY_BUCKETS.map((b) => [b, 0])) as Record<string, number>;
  severities.info = count - error;
  severities.error = error;
  return { id, text, count, firstSeen, lastSeen: NOW, severities: severities as unknown as TemplateSummary['severities'], example: text };
}

const view: TopView = {
  status: status(),
  templates: { now: NOW, processors: [{ processor: 'classify', templates: [template('a', 'user <*> logged in', 4000, NOW - 3_600_000), template('b', 'disk <*> failed', 1000, NOW - 5_000, 1000)] }] },
  previous: { now: NOW - 1000, processors: [{ processor: 'classify', templates: [template('a', 'user <*> logged in', 3990, NOW - 3_600_000)] }] },
};

describe('top rendering', () => {
  test('the dashboard shows rates per component, drops, queue fill, busiest templates first with new ones marked, and the spike state', () => {
    const screen = renderDashboard(view, 200).join('\n');
    expect(screen).toContain('otlp-log-processor 1.2.3 — up 1h02m — 2 worker threads (0 restarts) — RSS 200 MiB, heap 50 MiB/80 MiB');
    expect(screen).toContain('rates over the last 10 s — ERROR SPIKE');
    expect(screen).toMatch(/ {2}grpc +250 +1 +5000/);
    expect(screen).toMatch(/ {2}aggregate +250 +250 +0/);
    expect(screen).toMatch(/ {2}otlp +245 +0\.5 +2500\/10000 +\[###\.{7}\] 25%/);
    expect(screen).toMatch(/ {2}exporter\/otlp queue_full +0\.7 +7/);
    // b: all 1000 lines within the last second, first seen 5 s ago: busiest and new; a: 10/s, old.
    const rows = screen.split('\n').filter((l) => l.includes('<*>'));
    expect(rows).toEqual([expect.stringMatching(/^ {2}NEW +1000 +1000 {2}E {4}disk <\*> failed$/), expect.stringMatching(/^ {5} +10 +4000 {2}I {4}user <\*> logged in$/)]);
  });

  test.each([
    ['no aggregate processor: no spike state', status({ processors: [] }), (s: string) => expect(s).not.toMatch(/spike/i)],
    ['aggregate without a recent spike', status({ processors: [{ name: 'aggregate', incoming: c(0, 0), outgoing: c(0, 0), errors: c(0, 0), events: { error_spikes: c(3, 0) } }] }), (s: string) => expect(s).toContain('no error spike')],
  ])('%s', (_name, st, check) => {
    check(renderDashboard({ ...view, status: st }, 200).join('\n'));
  });

  test('lines are cut to the terminal width', () => {
    for (const line of renderDashboard(view, 40)) expect(line.length).toBeLessThanOrEqual(40);
  });

  test('the plain line sums the rates', () => {
    expect(renderLine(view)).toBe(
      '2026-01-01T12:00:00.000Z | in 250/s (grpc 250) | out 245/s (otlp 245) | dropped 0.7/s | failed 0.5 req/s | queue otlp 2500/10000 | rss 200 MiB | templates 2 (1 new) | ERROR SPIKE',
    );
  });

  test.each([
    [[], {}, { endpoint: 'http://127.0.0.1:8888', token: undefined, iterations: undefined }],
    [[], { OLP_METRICS_ENDPOINT: '0.0.0.0:9999' }, { endpoint: 'http://127.0.0.1:9999', token: undefined, iterations: undefined }],
    [['--endpoint', 'http://h:1/', '--token', 't', '-n', '3'], {}, { endpoint: 'http://h:1', token: 't', iterations: 3 }],
    [['-n', '0'], {}, { error: '--iterations: expected a positive integer, got "0"' }],
    [['--endpoint', 'h:1'], {}, { error: '--endpoint: expected an http:// or https:// URL, got "h:1"' }],
  ])('arguments %j with env %j', (argv, env, want) => {
    expect(parseTopArgs(argv as string[], env)).toEqual(want);
  });
});

describe('top against a running service', () => {
  const f = useSharedService({ OLP_PROCESSORS: 'classify', OLP_AUTH_BEARER_TOKENS: 'top-secret', OLP_BATCH_MAX_DELAY: '1ms' });
  const url = (): string => `http://127.0.0.1:${f.service.metricsPort}`;

  beforeAll(async () => {
    const answer = await exportLogs(f.service.endpoint, request([record('job 1 done'), record('job 2 done')]), { metadata: { authorization: 'Bearer top-secret' } });
    expect(answer.code).toBe(grpc.status.OK);
  });

  test('without a terminal it prints one plain line per refresh', async () => {
    const res = await runCli(['top', '--endpoint', url(), '--token', 'top-secret', '-n', '2']);
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT.* \| in [\d.]+\/s \(grpc [\d.]+, http [\d.]+\) \| out .* \| templates 1 \(1 new\)$/);
  });

  test('a missing token is reported and the exit code is 1', async () => {
    const res = await runCli(['top', '--endpoint', url(), '-n', '1']);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('401, the service wants a bearer token (--token)');
  });

  const tmux = hasTmux();
  (tmux ? test : test.skip)('on a terminal (tmux) it draws the dashboard, quits on q and restores the terminal', async () => {
    const session = `olp-top-${process.pid}`;
    const sh = `before=$(stty -g); ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} top --endpoint ${url()} --token top-secret; echo "EXIT=$?"; [ "$before" = "$(stty -g)" ] && echo TTY-RESTORED; sleep 30`;
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '120', '-y', '40', sh]);
    const capture = (): string => execFileSync('tmux', ['capture-pane', '-p', '-t', session]).toString();
    try {
      await eventually(() => expect(capture()).toContain('job <*> done'), 10_000);
      const screen = capture();
      expect(screen).toMatch(/^otlp-log-processor \S+ — up /);
      expect(screen).toContain('RECEIVERS');
      expect(screen).toMatch(/ {2}NEW +[\d.]+ +2 {2}- {4}job <\*> done/);
      expect(screen).toContain('q: quit');
      execFileSync('tmux', ['send-keys', '-t', session, 'q']);
      await eventually(() => expect(capture()).toContain('TTY-RESTORED'), 10_000);
      const after = capture();
      expect(after).toContain('EXIT=0');
      // The alternate screen is gone: the dashboard is not on the normal screen.
      expect(after).not.toContain('RECEIVERS');
    } finally {
      execFileSync('tmux', ['kill-session', '-t', session]);
    }
  }, 20_000);
  if (!tmux) process.stderr.write('top.test.ts: tmux is not installed: the terminal test is skipped (apt-get install -y tmux)\n');
});

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
}
