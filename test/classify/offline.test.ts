import { mineLines, splitLines } from '../../src/classify/batch';
import { csvRow, parseCsv } from '../../src/classify/csv';
import { groupingAccuracy } from '../../src/classify/grouping-accuracy';
import { parseLogFormat } from '../../src/classify/log-format';

describe('log format (Loghub notation)', () => {
  test.each([
    ['<Date> <Time> <Pid> <Level> <Component>: <Content>', '081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_1 terminating', 'PacketResponder 1 for block blk_1 terminating'],
    ['<Date> <Time> <Level> \\[<Process>\\] <Component>: <Content>', '2015-10-18 18:01:47,978 INFO [main] org.a.B: Created MRAppMaster', 'Created MRAppMaster'],
    ['<Month> <Date> <Time> <Level> <Component>(\\[<PID>\\])?: <Content>', 'Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown', 'check pass; user unknown'],
    ['<Month> <Date> <Time> <Level> <Component>(\\[<PID>\\])?: <Content>', 'Jun 14 15:16:01 combo kernel: Linux version 2.6', 'Linux version 2.6'],
    ['<Time>\\|<Component>\\|<Pid>\\|<Content>', '20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579', 'onStandStepChanged 3579'],
    ['\\[<Time>\\] <Program> - <Content>', '[10.30 16:49:06] chrome.exe - proxy.cse.cuhk.edu.hk:5070 open through proxy', 'proxy.cse.cuhk.edu.hk:5070 open through proxy'],
  ])('%s extracts the content', (format, line, content) => {
    expect(parseLogFormat(format).content(line)).toBe(content);
  });

  test('lists its fields and says when a line does not fit', () => {
    const f = parseLogFormat('<Date> <Level>: <Content>');
    expect(f.fields).toEqual(['Date', 'Level', 'Content']);
    expect(f.content('no colon here')).toBeUndefined();
  });

  test.each([
    ['<Date> <Level>', /no <Content>/],
    ['<Content> <Content>', /twice/],
    ['<Date> (<Content>', /not a valid pattern/],
  ])('rejects %s', (format, message) => {
    expect(() => parseLogFormat(format)).toThrow(message);
  });
});

describe('CSV', () => {
  test('quotes fields per RFC 4180 and reads them back', () => {
    const fields = ['plain', 'with, comma', 'with "quote"', 'two\nlines', ''];
    const text = csvRow(['a', 'b', 'c', 'd', 'e']) + csvRow(fields);
    expect(text).toBe('a,b,c,d,e\r\nplain,"with, comma","with ""quote""","two\nlines",\r\n');
    expect(parseCsv(text)).toEqual([['a', 'b', 'c', 'd', 'e'], fields]);
  });

  test('reads LF line ends and a BOM', () => {
    expect(parseCsv('\ufeffx,y\n1,2\n')).toEqual([['x', 'y'], ['1', '2']]);
  });
});

describe('grouping accuracy', () => {
  test.each([
    ['perfect grouping under other names', ['a', 'a', 'b'], ['x', 'x', 'y'], 1],
    ['a split group loses all its lines', ['a', 'a', 'b'], ['x', 'z', 'y'], 1 / 3],
    ['a merged pair loses both groups', ['a', 'a', 'b'], ['x', 'x', 'x'], 0],
    ['the Loghub example', ['e1', 'e1', 'e2', 'e2', 'e3'], ['t1', 't1', 't2', 't3', 't3'], 2 / 5],
  ])('%s', (_name, truth, parsed, expected) => {
    expect(groupingAccuracy(truth, parsed).accuracy).toBeCloseTo(expected);
  });

  test('explains what was missed', () => {
    const r = groupingAccuracy(['a', 'a', 'b'], ['x', 'z', 'x']);
    expect(r.misses.map((m) => m.truth).sort()).toEqual(['a', 'b']);
    expect(r.misses.find((m) => m.truth === 'a')!.parsed).toEqual([
      { label: 'x', ofThisGroup: 1, size: 2 },
      { label: 'z', ofThisGroup: 1, size: 1 },
    ]);
  });
});

describe('offline mining', () => {
  test('reports each line with the final template of its group', () => {
    const lines = splitLines('Invalid user alice from 10.0.0.1\r\nInvalid user bob from 10.0.0.2\nInvalid user carol from 10.0.0.3\nLink error\n');
    expect(lines).toHaveLength(4);
    const mined = mineLines(lines);
    expect(mined.templates).toEqual(['Invalid user <*> from <*>', 'Invalid user <*> from <*>', 'Invalid user <*> from <*>', 'Link error']);
    expect(new Set(mined.ids).size).toBe(2);
    expect(mined.templateCount).toBe(2);
  });

  test('mines the content field and mines lines without the format whole', () => {
    const mined = mineLines(['2024-01-01 INFO: job 1 done', 'garbage line 7', '2024-01-02 INFO: job 2 done'], '<Date> <Level>: <Content>');
    expect(mined.templates).toEqual(['job <*> done', 'garbage line <*>', 'job <*> done']);
    expect(mined.unmatched).toBe(1);
  });
});
