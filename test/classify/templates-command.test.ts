import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TEMPLATES_HELP, templatesCommand } from '../../src/cli/templates';
import { parseCsv } from '../../src/classify/csv';

describe('templates command', () => {
  let dir: string;
  let stderr: string;
  let stdout: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'olp-templates-'));
    stderr = '';
    stdout = '';
    jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
    jest.spyOn(process.stdout, 'write').mockImplementation(((s: string | Uint8Array, cb?: (err?: Error) => void) => {
      stdout += String(s);
      cb?.();
      return true;
    }) as typeof process.stdout.write);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const file = (name: string, text: string): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };

  test('writes LineId,EventTemplate for every line, templates mined from <Content>', async () => {
    const input = file(
      'app.log',
      [
        '2024-01-01 10:00:00 INFO api: Invalid user alice from 10.0.0.1',
        '2024-01-01 10:00:01 INFO api: Invalid user bob from 10.0.0.2',
        '2024-01-01 10:00:02 WARN db: cache miss, reloading "users"',
        '2024-01-01 10:00:03 INFO api: Invalid user carol from 10.0.0.3',
      ].join('\n') + '\n',
    );
    const output = path.join(dir, 'out.csv');
    const code = await templatesCommand(['--input', input, '--log-format', '<Date> <Time> <Level> <Component>: <Content>', '--output', output]);
    expect(code).toBe(0);
    const text = fs.readFileSync(output, 'utf8');
    expect(text.startsWith('LineId,EventTemplate\r\n')).toBe(true);
    expect(parseCsv(text)).toEqual([
      ['LineId', 'EventTemplate'],
      ['1', 'Invalid user <*> from <*>'],
      ['2', 'Invalid user <*> from <*>'],
      ['3', 'cache miss, reloading "users"'],
      ['4', 'Invalid user <*> from <*>'],
    ]);
    // RFC 4180: the comma and the quotes make the field quoted, quotes doubled.
    expect(text).toContain('3,"cache miss, reloading ""users"""\r\n');
    expect(stderr).toMatch(/4 lines, 2 templates/);
  });

  test('mines whole lines without --log-format, and writes to stdout by default', async () => {
    const input = file('plain.log', 'job 1 done\njob 2 done\n');
    expect(await templatesCommand(['--input', input])).toBe(0);
    expect(parseCsv(stdout)).toEqual([['LineId', 'EventTemplate'], ['1', 'job <*> done'], ['2', 'job <*> done']]);
  });

  test('reports lines that do not have the format', async () => {
    const input = file('mixed.log', 'x INFO: job 1 done\nnot matching\n');
    expect(await templatesCommand(['--input', input, '--log-format', '<A> <Level>: <Content>', '--output', path.join(dir, 'o.csv')])).toBe(0);
    expect(stderr).toMatch(/1 did not match --log-format/);
  });

  test('writes the distinct templates with their ids and counts', async () => {
    const input = file('plain.log', 'job 1 done\njob 2 done\nLink error\n');
    const summary = path.join(dir, 'templates.csv');
    expect(await templatesCommand(['--input', input, '--output', path.join(dir, 'o.csv'), '--templates', summary])).toBe(0);
    const rows = parseCsv(fs.readFileSync(summary, 'utf8'));
    expect(rows[0]).toEqual(['EventId', 'EventTemplate', 'Occurrences']);
    expect(rows.slice(1).map((r) => [r[1], r[2]])).toEqual([['job <*> done', '2'], ['Link error', '1']]);
    expect(rows[1]![0]).toMatch(/^[0-9a-f]{16}$/);
  });

  test.each([
    [[], /--input FILE is required/],
    [['--input', 'x', '--bogus'], /Unknown option/],
    [['--input', 'x', '--log-format', '<Date> <Level>'], /no <Content>/],
  ])('answers %j with a usage error (exit 2)', async (argv, message) => {
    expect(await templatesCommand(argv)).toBe(2);
    expect(stderr).toMatch(message);
  });

  test('exits 1 when the input cannot be read', async () => {
    expect(await templatesCommand(['--input', path.join(dir, 'missing.log')])).toBe(1);
    expect(stderr).toMatch(/cannot read/);
  });

  test('prints help', async () => {
    expect(await templatesCommand(['--help'])).toBe(0);
    expect(stdout).toBe(TEMPLATES_HELP);
  });
});
