import { TemplateMiner } from '../../src/classify/template-miner';
import { TokenBuffer, Tokenizer, VAR, WEAK, WORD } from '../../src/classify/tokenizer';

/** The template a single line gets: its variables masked, nothing learnt yet. */
function template(line: string): string {
  return new TemplateMiner().add(line).family.text;
}

function tokens(line: string, maxTokens = 200): { text: string; kind: number }[] {
  const buf = new TokenBuffer(4);
  new Tokenizer(maxTokens).tokenize(line, buf);
  return Array.from({ length: buf.count }, (_, i) => ({ text: buf.texts[i]!, kind: buf.kinds[i]! }));
}

describe('masking', () => {
  test.each([
    ['integers and decimals', 'took 35 tries, read 1.5 of 2048 rows', 'took <*> tries, read <*> of <*> rows'],
    ['quantities with their unit as one value', 'took 35 ms, read 1.5 KB (12MB total)', 'took <*>, read <*> (<*> total)'],
    ['a number before a word that is no unit', 'sent 12 bytes in 3 sec', 'sent <*> bytes in <*>'],
    ['negative numbers', 'offset -27 applied', 'offset <*> applied'],
    ['hex with prefix', 'register 0x7ffd5a3c set', 'register <*> set'],
    ['long hex strings', 'commit deadbeefcafe1234 pushed', 'commit <*> pushed'],
    ['IPv4', 'peer 10.1.2.3 joined', 'peer <*> joined'],
    ['IPv4 with port', 'peer 10.1.2.3:5432 joined', 'peer <*> joined'],
    ['IPv4 with port before a colon', '10.1.2.3:5432:Got exception', '<*>:Got exception'],
    ['host with port', 'open through proxy.example.com:8080 ok', 'open through <*> ok'],
    ['IPv6', 'listening on fe80::1ff:fe23:4567:890a now', 'listening on <*> now'],
    ['MAC address', 'link 00:1a:2b:3c:4d:5e up', 'link <*> up'],
    ['UUIDs', 'request 3f2b9c1e-8a4d-4c6b-9e1f-0a1b2c3d4e5f failed', 'request <*> failed'],
    ['absolute paths', 'deleted /var/log/app.log.1 now', 'deleted <*> now'],
    ['relative paths', 'wrote ./out/result.csv', 'wrote <*>'],
    ['Windows paths', 'opened C:\\Temp\\x.txt', 'opened <*>'],
    ['URLs', 'GET https://example.com/a/b?c=1 returned 404', 'GET <*> returned <*>'],
    ['e-mail addresses', 'sent mail to bob@example.com', 'sent mail to <*>'],
    ['ISO timestamps', 'at 2024-05-01T10:20:30.123Z done', 'at <*> done'],
    ['dates with spaces', 'at 2015-10-18 18:01:47,978 done', 'at <*> done'],
    ['syslog dates', 'connection at Fri Jul  1 07:57:30 2005 closed', 'connection at <*> closed'],
    ['bracketed dates', '[Sun Dec 04 04:47:44 2005] notice', '[<*>] notice'],
    ['clock times', 'lifetime 04:50 ok', 'lifetime <*> ok'],
    ['comparisons with numbers', 'lifetime <1 sec', 'lifetime <*>'],
    ['host with port, the host a hyphenated name', 'retrying db-07:5432 now', 'retrying <*> now'],
    ['a clock followed by a level, not a time zone', 'at 2024-05-01 10:20:30 WARN disk full', 'at <*> WARN disk full'],
    ['digit-dominated ids', 'served blk_-6952295868487656571 to node-246', 'served <*> to <*>'],
    ['a number after a name and a dot, the name kept', 'generating core.33706 now', 'generating core.<*> now'],
    ['key=value values', 'uid=0 euid=0 tty=NODEVssh', 'uid=<*> euid=<*> tty=NODEVssh'],
    ['key:value values', 'onExtend:1514038530000 14 0 4', 'onExtend:<*> <*> <*> <*>'],
    ['numbers in lists', 'list=[1,2,3] done', 'list=[<*>,<*>,<*>] done'],
    ['JSON values', '{"msg":"done","status":200,"user":"alice"}', '{"msg":"done","status":<*>,"user":"alice"}'],
    ['timestamps in key=value', 'time=2024-05-01T10:00:00Z level=info', 'time=<*> level=info'],
    ['IPv6 loopback', 'listening on [::1]:8080', 'listening on [<*>]:<*>'],
    ['dot leaders', 'processor.........................0', 'processor.........................<*>'],
    ['words stay', 'Registered signal handlers for [TERM, HUP, INT]', 'Registered signal handlers for [TERM, HUP, INT]'],
  ])('masks %s', (_name, line, expected) => {
    expect(template(line)).toBe(expected);
  });

  test.each([
    ['alt0', WEAK],
    ['SOCKS5', WEAK],
    ['utf8', WEAK],
    ['node-246', VAR],
    ['1234', VAR],
    ['hello', WORD],
  ])('classifies %s as kind %i', (text, kind) => {
    expect(tokens(`x ${text} y`)[1]).toEqual({ text, kind });
  });

  test('keeps the original text reconstructable from tokens and separators', () => {
    const line = '  a=1, b=(2) [c] "quoted text" end.  ';
    const buf = new TokenBuffer(2);
    new Tokenizer(200).tokenize(line, buf);
    let rebuilt = '';
    for (let i = 0; i < buf.count; i++) rebuilt += buf.separator(i) + buf.texts[i];
    rebuilt += buf.separator(buf.count);
    expect(rebuilt).toBe(line);
  });

  test('folds tokens past max_tokens into one trailing variable', () => {
    const t = tokens('a b c d e f g h', 4);
    expect(t.map((x) => x.text)).toEqual(['a', 'b', 'c', 'd e f g h']);
    expect(t[3]!.kind).toBe(VAR);
    expect(new TemplateMiner({ maxTokens: 4 }).add('a b c d e f g h').family.text).toBe('a b c <*>');
  });

  test.each([
    ['brackets', '('.repeat(200_000) + ' x'],
    ['separators after a variable', '1' + ', '.repeat(100_000) + 'x'],
    ['clock-like digits', '1:2 '.repeat(50_000)],
    ['dotted digits', '1.2.3.4.'.repeat(30_000)],
    ['a stack of groups', '(1) '.repeat(50_000)],
  ])('stays fast on adversarial input: %s', (_name, line) => {
    const miner = new TemplateMiner();
    const start = Date.now();
    miner.add(line);
    miner.add(line + ' y');
    expect(Date.now() - start).toBeLessThan(2000);
  });

  test('characters beyond ASCII: letters, except U+00A0 which separates', () => {
    expect(tokens('café 12 naïve\u00a0x €5 ünïcode:42 \u2028 done').map((x) => [x.text, x.kind])).toEqual([
      ['café', WORD],
      ['12', VAR],
      ['naïve', WORD],
      ['x', WORD],
      ['€5', VAR],
      ['ünïcode', WORD],
      ['42', VAR],
      ['\u2028', WORD],
      ['done', WORD],
    ]);
  });

  test('dates far into a line, and clocks not preceded by a space', () => {
    expect(template('a '.repeat(60) + 'at Fri Jul  1 07:57:30 2005 done').endsWith(' a at <*> done')).toBe(true);
    expect(tokens('id 20171223-22:15:29:635 x:12:30 done').map((x) => [x.text, x.kind])).toEqual([
      ['id', WORD],
      ['20171223-22:15:29:635', VAR],
      ['x', WORD],
      ['12', VAR],
      ['30', VAR],
      ['done', WORD],
    ]);
  });

  test('a tokenizer reused after long and non-ASCII lines gives what a fresh one gives', () => {
    const lines = ['x'.repeat(70_000) + ' 1', 'é 10.0.0.1:80 ok', 'GET /a/b 200', 'ab', 'a '.repeat(3000), 'proxy.example.com:8080 open'];
    const reused = new Tokenizer(200);
    const buf = new TokenBuffer(4);
    for (const line of lines) {
      reused.tokenize(line, buf);
      const fresh = new TokenBuffer(4);
      new Tokenizer(200).tokenize(line, fresh);
      expect(buf.texts.slice(0, buf.count)).toEqual(fresh.texts.slice(0, fresh.count));
      expect([...buf.kinds.subarray(0, buf.count)]).toEqual([...fresh.kinds.subarray(0, fresh.count)]);
    }
  });

  test('an empty line is one empty template', () => {
    const m = new TemplateMiner();
    expect(m.add('').family.text).toBe('');
    expect(m.add('   ').family.id).toBe(m.add('').family.id);
  });
});
