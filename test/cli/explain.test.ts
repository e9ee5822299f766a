/** `explain`: what each processor does to sample records, without exporting them. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { EXPLAIN_HELP, explainBatches, explainCommand, formatText, parseJsonRequests } from '../../src/cli/explain';
import type { LogsData } from '../../src/otlp/model';
import type { ChainStage } from '../../src/pipeline/chain';
import { newLogRecord, stringValue } from '../../src/otlp/values';
import { builtinProcessors } from '../../src/processors/registry';
import { runCli } from '../helpers/cli';

async function explain(argv: string[], env: Record<string, string> = {}, stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await explainCommand(argv, env, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    stdin: Readable.from([stdin]),
  });
  return { code, stdout, stderr };
}

function tempFile(name: string, content: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'olp-explain-')), name);
  fs.writeFileSync(file, content);
  return file;
}

function batch(...bodies: string[]): LogsData {
  return {
    resourceLogs: [
      {
        resource: { attributes: [], droppedAttributesCount: 0, entityRefs: [] },
        schemaUrl: '',
        scopeLogs: [{ scope: null, schemaUrl: '', logRecords: bodies.map((b) => newLogRecord({ body: stringValue(b) })) }],
      },
    ],
  };
}

/** Drops records whose body contains "debug", like the built-in filter. */
const dropDebug: ChainStage = {
  name: 'dropper',
  processor: {
    process(batch) {
      for (const r of batch) if (r.bodyString!.includes('debug')) r.drop('filtered');
    },
  },
};

const LINES = ['2024-05-01 10:00:01 ERROR db: connection refused', '2024-05-01 10:00:02 DEBUG cache warm', '2024-05-01 10:00:03 WARN slow query'];

describe('explain (in process)', () => {
  const env = { OLP_PROCESSORS: 'severity,resource,attributes', K8S_POD_NAME: 'pod-a', OLP_ATTRIBUTES_ACTIONS: 'insert env=prod;delete log.file.name' };

  test('shows what severity, resource and attributes change on each line', async () => {
    const file = tempFile('sample.log', LINES.join('\n') + '\n');
    const r = await explain(['--input', file], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const blocks = r.stdout.split(/\n(?=record )/);
    expect(blocks[0]).toContain('record 1: "2024-05-01 10:00:01 ERROR db: connection refused"');
    expect(blocks[0]).toMatch(/ {2}severity +severity_number: 0 → 17; severity_text: "" → "ERROR"; \+ attributes\["log\.severity\.inferred"\] = true\n/);
    expect(blocks[0]).toMatch(/\n +rule: header-level: .* — "ERROR"\n/);
    expect(blocks[0]).toMatch(/ {2}resource +\+ resource\["k8s\.pod\.name"\] = "pod-a" \(resource of 3 records\)\n/);
    expect(blocks[0]).toMatch(/ {2}attributes +- attributes\["log\.file\.name"\] \(was "sample\.log"\); \+ attributes\["env"\] = "prod"\n/);
    expect(blocks[0]).toMatch(/→ +kept/);
    // The shared resource change is listed once, then referred to.
    expect(blocks[1]).toContain('record 2: "2024-05-01 10:00:02 DEBUG cache warm"');
    expect(blocks[1]).toMatch(/severity_number: 0 → 5; severity_text: "" → "DEBUG"/);
    expect(blocks[1]).toMatch(/ {2}resource +resource changed \(see record 1\)\n/);
    expect(blocks[2]).toMatch(/severity_number: 0 → 13; severity_text: "" → "WARN"/);
    expect(r.stdout).toMatch(/3 records in, 3 out \(0 dropped, 0 added\)\n$/);
  });

  test('names the rule that set each inferred severity', async () => {
    const lines = [
      '2016-09-28 04:30:31, Info                  CBS    SQM: Warning: Failed to upload all unsent reports.',
      '03-17 16:13:38.811  1702  2395 E AndroidRuntime: FATAL EXCEPTION: main',
      'user logged in',
    ];
    const r = await explain(['--input', '-', '--processors', 'severity', '--format', 'json'], {}, lines.join('\n'));
    expect(r.code).toBe(0);
    const rules = r.stdout.trim().split('\n').map((l) => JSON.parse(l).steps[0].severityRule as string);
    expect(rules[0]).toMatch(/^header-level: .* — "Info"$/);
    expect(rules[1]).toMatch(/^logcat: .* — "E"$/);
    expect(rules[2]).toMatch(/default_level/);
  });

  test('reads stdin with --input -, honours --limit and --processors', async () => {
    const r = await explain(['--input', '-', '--limit', '2', '--processors', 'severity', '--service', 'checkout'], env, LINES.join('\r\n'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('record 2:');
    expect(r.stdout).not.toContain('record 3:');
    expect(r.stdout).not.toMatch(/^ {2}resource/m);
    expect(r.stdout).not.toMatch(/^ {2}attributes/m);
    expect(r.stdout).toContain('2 records in, 2 out');
  });

  test('--format json prints one object per record with OTLP/JSON values and 64-bit integers as strings', async () => {
    const request = {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] },
          scopeLogs: [
            {
              logRecords: [
                {
                  timeUnixNano: '1714557601000000001',
                  severityText: 'warning',
                  body: { stringValue: 'disk almost full' },
                  attributes: [
                    { key: 'bytes', value: { intValue: '9007199254740993' } },
                    { key: 'log.file.name', value: { stringValue: 'x.log' } },
                  ],
                },
                { body: { stringValue: 'second' } },
              ],
            },
          ],
        },
      ],
    };
    const file = tempFile('requests.json', JSON.stringify(request));
    const r = await explain(['--input', file, '--json-input', '--format', 'json', '--processors', 'severity,attributes'], {
      OLP_ATTRIBUTES_ACTIONS: 'rename bytes=size;delete log.file.name',
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ record: 1, body: 'disk almost full', outcome: 'kept' });
    expect(lines[0].steps[0]).toEqual({
      processor: 'severity',
      changes: [
        { field: 'severity_number', op: 'changed', before: 0, after: 13 },
        { field: 'severity_text', op: 'changed', before: 'warning', after: 'WARN' },
      ],
      severityRule: 'severity_text "warning" mapped by the alias table',
    });
    expect(lines[0].steps[1].processor).toBe('attributes');
    expect(lines[0].steps[1].changes).toEqual([
      { field: 'attributes["bytes"]', op: 'removed', before: { intValue: '9007199254740993' } },
      { field: 'attributes["log.file.name"]', op: 'removed', before: { stringValue: 'x.log' } },
      { field: 'attributes["size"]', op: 'added', after: { intValue: '9007199254740993' } },
    ]);
    expect(r.stdout).toContain('"9007199254740993"');
    expect(lines[1].record).toBe(2);
  });

  test('JSON lines input is processed request by request', () => {
    const one = JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'a' }, timeUnixNano: 18446744073709551615n.toString() }] }] }] });
    const batches = parseJsonRequests(`${one}\n\n${one}\n`);
    expect(batches).toHaveLength(2);
    const result = explainBatches(
      [
        {
          name: 'stamp',
          processor: {
            process(batch) {
              for (const rec of batch) rec.timeUnixNano = 1714557601000000001n;
            },
          },
        },
      ],
      batches,
    );
    expect(result.map((e) => e.index)).toEqual([1, 2]);
    expect(result[0]!.steps[0]!.changes).toEqual([
      expect.objectContaining({ field: 'time_unix_nano', op: 'changed', before: '18446744073709551615', after: '1714557601000000001' }),
    ]);
    expect(result[0]!.steps[0]!.changes[0]!.afterText).toBe('1714557601000000001 (2024-05-01T10:00:01.000000001Z)');
  });

  test('a configuration error exits 1 naming the variable', async () => {
    const r = await explain(['--input', '-'], { OLP_PROCESSORS: 'nope' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('OLP_PROCESSORS: unknown processor "nope"');
    const option = await explain(['--input', '-', '--processors', 'severity'], { OLP_SEVERITY_CLASS_ATTRIBUTE: 'log.severity.inferred' });
    expect(option.code).toBe(1);
    expect(option.stderr).toContain('OLP_SEVERITY_CLASS_ATTRIBUTE: must not be');
  });

  test('bad arguments and unreadable input exit 2', async () => {
    expect((await explain([])).code).toBe(2);
    expect((await explain(['--input', '-', '--format', 'xml'])).stderr).toContain('--format must be text or json');
    expect((await explain(['--input', '-', '--limit', '0'])).code).toBe(2);
    expect((await explain(['--input', '-', '--bogus'])).code).toBe(2);
    const missing = await explain(['--input', '/nonexistent/sample.log'], { OLP_PROCESSORS: '' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('/nonexistent/sample.log');
    const badJson = await explain(['--input', '-', '--json-input'], { OLP_PROCESSORS: '' }, '{"resourceLogs": 3}');
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain('resourceLogs: expected an array');
  });

  test('--help explains it', async () => {
    const r = await explain(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(EXPLAIN_HELP);
    expect(r.stdout).toMatch(/Usage: otlp-log-processor explain --input FILE/);
  });
});

describe('explainBatches', () => {
  test('attributes a drop to the stage that removed the record, with the reason it reported', () => {
    const severity: ChainStage = {
      name: 'severity',
      processor: {
        process(batch) {
          for (const rec of batch) rec.severityNumber = 9;
        },
      },
    };
    const result = explainBatches([dropDebug, severity], [batch('start', 'debug: x', 'stop')]);
    expect(result.map((e) => e.droppedBy)).toEqual([undefined, 'dropper', undefined]);
    expect(result[1]!.steps).toEqual([{ processor: 'dropper', changes: [], resourceChanges: [], dropped: { reason: 'filtered' } }]);
    expect(result[0]!.steps.map((s) => s.processor)).toEqual(['dropper', 'severity']);
    const text = formatText(result, ['dropper', 'severity']);
    expect(text).toMatch(/record 2: "debug: x"\n {2}dropper +dropped \(filtered\)\nrecord 3/);
    expect(text).toMatch(/record 1: "start"\n {2}dropper +unchanged\n {2}severity +severity_number: 0 → 9\n/);
    expect(text).toContain('3 records in, 2 out (1 dropped, 0 added)');
  });

  test('each dropped record shows the reason it was dropped with', () => {
    const perRecord: ChainStage = {
      name: 'picky',
      processor: {
        process(batch) {
          for (const r of batch) {
            const b = r.bodyString!;
            if (b.startsWith('dup')) r.drop('deduplicated');
            else if (b.startsWith('rate')) r.drop('rate_limited');
          }
        },
      },
    };
    const first: ChainStage = {
      name: 'first',
      processor: {
        process(batch) {
          const [head] = batch;
          head?.drop('trimmed');
        },
      },
    };
    const result = explainBatches([perRecord, first], [batch('rate 1', 'ok 1', 'dup 1', 'ok 2')]);
    expect(result.map((e) => e.steps.at(-1)!.dropped?.reason)).toEqual(['rate_limited', 'trimmed', 'deduplicated', undefined]);
    expect(result.map((e) => e.droppedBy)).toEqual(['picky', 'first', 'picky', undefined]);
  });

  test('processors are stateful across the batch: the second of two equal records is the one dropped', () => {
    const seen = new Set<string>();
    const dedup: ChainStage = {
      name: 'dedup',
      processor: {
        process(batch) {
          for (const r of batch) {
            const b = r.bodyString!;
            if (seen.has(b)) r.drop('deduplicated');
            else seen.add(b);
          }
        },
      },
    };
    const result = explainBatches([dedup], [batch('a', 'b', 'a'), batch('b')]);
    expect(result.map((e) => e.droppedBy ?? 'kept')).toEqual(['kept', 'kept', 'dedup', 'dedup']);
  });

  test('records added by a processor are followed from there; a throwing processor is reported, its changes undone', () => {
    const splitter: ChainStage = {
      name: 'split',
      processor: {
        process(batch) {
          for (const r of batch) batch.add({ body: 'extra' }, r);
        },
      },
    };
    const broken: ChainStage = {
      name: 'broken',
      processor: {
        process(batch) {
          for (const rec of batch) {
            rec.attributes.set('n', -9223372036854775808n);
            rec.drop('never');
          }
          batch.add({ body: 'lost' });
          throw new Error('boom');
        },
      },
    };
    const result = explainBatches([splitter, broken], [batch('one')]);
    expect(result).toHaveLength(2);
    expect(result[1]).toMatchObject({ index: 2, addedBy: 'split', body: 'extra' });
    expect(result[1]!.steps.map((s) => s.processor)).toEqual(['broken']);
    // As the service does: the batch goes on as it was before the processor that threw.
    expect(result[0]!.steps[1]).toEqual({ processor: 'broken', error: 'boom', changes: [], resourceChanges: [] });
    expect(result.map((e) => e.droppedBy)).toEqual([undefined, undefined]);
    const text = formatText(result, ['split', 'broken']);
    expect(text).toContain('record 2 (added by split): "extra"');
    expect(text).toMatch(/ {2}broken +error: boom \(batch passed on as it was before it\)\n/);
    expect(text).toContain('1 records in, 2 out (0 dropped, 1 added)');
  });

  test('resource changes are listed once per resource; records added in a group of their own are followed', () => {
    const two: LogsData = { resourceLogs: [...batch('a1', 'a2').resourceLogs, ...batch('b1', 'b2').resourceLogs] };
    const stamp: ChainStage = {
      name: 'stamp',
      processor: {
        process(batch) {
          for (const rec of batch) rec.resource.attributes.set('stamped', rec.bodyString!.slice(0, 1));
          batch.add({ body: 'summary', attributes: { n: 4n } }, { resource: { 'service.name': 'olp' } });
        },
      },
    };
    const result = explainBatches([stamp], [two]);
    expect(result.map((e) => e.steps[0]?.resourceChanges.map((c) => `${c.field}=${c.afterText}`))).toEqual([['resource["stamped"]="a"'], [], ['resource["stamped"]="b"'], [], undefined]);
    expect(result.map((e) => e.steps[0]?.resourceSameAs)).toEqual([undefined, 1, undefined, 3, undefined]);
    expect(result[0]!.steps[0]!.resourceRecords).toBe(2);
    expect(result[4]).toMatchObject({ index: 5, addedBy: 'stamp', body: 'summary', steps: [] });
  });
});

test('the built-in filter processor: dropped records name it and the reason', async () => {
  expect(builtinProcessors.map((p) => p.name)).toContain('filter');
  const r = await explain(['--input', '-', '--processors', 'severity,filter'], { OLP_FILTER_DROP: 'severity_number < 9' }, LINES.join('\n'));
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/record 2: .*\n {2}severity .*\n +rule: .*\n {2}filter +dropped \(filtered\)\n/);
});

// End to end through the built CLI (run `npm run build` first).
test('the CLI explains stdin lines', async () => {
  const r = await runCli(['explain', '--input', '-', '--format', 'json'], { OLP_PROCESSORS: 'severity' }, LINES.join('\n'));
  expect(r.code).toBe(0);
  expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l).steps[0].processor)).toEqual(['severity', 'severity', 'severity']);
});
