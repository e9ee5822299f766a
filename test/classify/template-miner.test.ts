import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { TemplateMiner, WILDCARD } from '../../src/classify/template-miner';
import { templateId } from '../../src/classify/template-id';

function mine(lines: readonly string[], options = {}): { miner: TemplateMiner; texts: string[]; ids: string[] } {
  const miner = new TemplateMiner(options);
  const shapes = lines.map((l) => miner.add(l));
  // As the templates command reports them: each line with its template once all were read.
  const final = shapes.map((s, i) => miner.templateOf(s, lines[i]!));
  return { miner, texts: final.map((t) => t.text), ids: final.map((t) => t.id) };
}

describe('template merging', () => {
  test('lines that differ in a variable word of a long message share one template', () => {
    const { texts, ids } = mine(['Failed password for invalid user admin from 10.0.0.1 port 22 ssh2', 'Failed password for invalid user oracle from 10.0.0.2 port 4711 ssh2']);
    expect(texts[1]).toBe('Failed password for invalid user <*> from <*> port <*> ssh2');
    expect(ids[0]).toBe(ids[1]);
  });

  test.each([
    ['short messages that differ in a word', ['Link error', 'Link ok']],
    ['a word against a digit-word', ['open through proxy HTTPS', 'open through proxy SOCKS5']],
    ['different token counts', ['Command has been aborted', 'Command has completed successfully']],
    ['single words', ['active', 'blocked']],
  ])('keeps apart %s', (_name, lines) => {
    const { ids } = mine(lines);
    expect(new Set(ids).size).toBe(lines.length);
  });

  test('a different digit-word is no evidence against a template', () => {
    const { texts } = mine(['detected a connection via interface alt0', 'detected a connection via interface ee0']);
    expect(texts[1]).toBe('detected a connection via interface <*>');
  });

  test('a third distinct word in one slot makes the slot a variable', () => {
    const lines = ['Invalid user alice from 10.0.0.1', 'Invalid user bob from 10.0.0.2', 'Invalid user carol from 10.0.0.3'];
    const { miner, texts, ids } = mine(lines);
    expect(new Set(texts)).toEqual(new Set(['Invalid user <*> from <*>']));
    expect(new Set(ids).size).toBe(1);
    expect(miner.stats().templates).toBe(1);
  });

  test('a routing word after the first is a slot too', () => {
    const { texts } = mine(['user alice logged in from 10.0.0.1', 'user bob logged in from 10.0.0.2', 'user carol logged in from 10.0.0.3']);
    expect(texts[2]).toBe('user <*> logged in from <*>');
  });

  test('a variable word in the leading position joins a template that starts with a variable', () => {
    const { texts } = mine(['10.0.0.1:80 error : Could not connect to proxy', 'wpad error : Could not connect to proxy']);
    expect(texts[1]).toBe('<*> error : Could not connect to proxy');
  });

  test('joins shapes whose variable spans a different number of tokens into one family', () => {
    const { ids } = mine(['Component \\042alt0\\042 is unavailable', 'Component \\042SCSI-WWID:01000010:6005-08b4\\042 is unavailable']);
    expect(ids[0]).toBe(ids[1]);
  });
});

/** Each line `times` times, the lists interleaved: how events of one kind arrive among others. */
function interleave(times: number, lines: readonly string[]): string[] {
  return Array.from({ length: times }, () => lines).flat();
}

describe('templates that hold on logs never seen (one default configuration)', () => {
  test.each([
    ['lifecycle states', interleave(3, ['vm 12 Started by agent', 'vm 13 Paused by agent', 'vm 14 Resumed by agent'])],
    ['request methods in a short message', interleave(3, ['request GET ok', 'request POST ok', 'request PUT ok', 'request DELETE ok'])],
    ['two outcomes in a long message', interleave(4, ['check Active for pool main since boot', 'check Inactive for pool main since boot'])],
  ])('a few words that each recur in one slot stay event words: %s', (_name, lines) => {
    const { texts } = mine(lines);
    const distinct = new Set(lines);
    expect(new Set(texts)).toEqual(new Set([...distinct].map((l) => l.replace(/\b1[234]\b/, '<*>'))));
  });

  test('a recurring event word gets its own id online once each word recurred, the id its first line had', () => {
    const miner = new TemplateMiner();
    const seen = interleave(3, ['request GET ok', 'request POST ok', 'request PUT ok']).map((l) => ({ ...miner.template(miner.add(l)) }));
    expect(seen.map((t) => t.text)).toEqual([
      'request GET ok',
      'request POST ok',
      'request <*> ok',
      'request <*> ok',
      'request <*> ok',
      'request PUT ok',
      'request GET ok',
      'request POST ok',
      'request PUT ok',
    ]);
    expect(seen[6]!.id).toBe(seen[0]!.id);
    expect(seen[8]!.id).toBe(templateId('request PUT ok'));
    expect(miner.resolve(seen[8]!.id)).toBe(seen[8]!.id);
    expect(miner.templateText(seen[8]!.id)).toBe('request PUT ok');
  });

  test('ids of event words lead to the variable once the slot has too many words', () => {
    const miner = new TemplateMiner();
    const put = interleave(2, ['request GET ok', 'request POST ok', 'request PUT ok']).map((l) => miner.template(miner.add(l)).id).at(-1)!;
    expect(miner.resolve(put)).toBe(put);
    for (const w of ['A', 'B', 'C', 'D', 'E', 'F']) miner.add(`request ${w} ok`);
    expect(miner.resolve(put)).toBe(templateId('request <*> ok'));
    expect(miner.template(miner.add('request PUT ok')).text).toBe('request <*> ok');
  });

  test('an event-word template follows its template when another word becomes a variable', () => {
    const miner = new TemplateMiner();
    const lines = interleave(2, ['job GET done for alpha now', 'job POST done for alpha now']);
    const id = lines.map((l) => miner.template(miner.add(l)).id).at(-1)!;
    expect(miner.templateText(id)).toBe('job POST done for alpha now');
    miner.add('job POST done for beta now');
    expect(miner.templateText(miner.resolve(id)!)).toBe('job POST done for <*> now');
  });

  test.each([
    ['a small set of rare values in the last slot', ['removing chargen', 'removing daytime', 'removing echo', 'removing time'], 'removing <*>'],
    ['many rare values in a middle slot', ['user alice logged in', 'user bob logged in', 'user carol logged in', 'user dave logged in'], 'user <*> logged in'],
    ['table names in the first position', ['FADT table loaded from firmware', 'HPET table loaded from firmware', 'MADT table loaded from firmware'], '<*> table loaded from firmware'],
    ['dotted job names in the first position', ['nightly.backup.job completed all steps without errors', 'weekly.report.job completed all steps without errors'], '<*> completed all steps without errors'],
  ])('values that do not recur are one variable: %s', (_name, lines, expected) => {
    const { texts } = mine(lines);
    expect(new Set(texts)).toEqual(new Set([expected]));
  });

  test.each([
    ['an optional group with a value', ['sent 10 bytes, lifetime 04:50', 'sent 2717 bytes (2.65 KB), lifetime <1 sec'], ['sent <*> bytes, lifetime <*>', 'sent <*> bytes (<*>), lifetime <*>']],
    ['an empty group', ['connection from 10.0.0.1 () at 10:20:30', 'connection from 10.0.0.2 (10.0.0.9) at 10:20:31'], ['connection from <*> () at <*>', 'connection from <*> (<*>) at <*>']],
    ['a level after a timestamp', ['2024-05-01 10:20:30 INFO worker started', '2024-05-01 10:20:31 WARN worker started'], ['<*> INFO worker started', '<*> WARN worker started']],
    ['punctuation next to a constant', ['cache entries: 512 (order: 3, 4096 bytes)', 'cache entries: 1024 (order 0: 4096 bytes)'], ['cache entries: <*> (order: <*>, <*> bytes)', 'cache entries: <*> (order <*>: <*> bytes)']],
  ])('keeps every constant word and bracket in the text, and texts that differ get different ids: %s', (_name, lines, expected) => {
    const { texts, ids } = mine(lines);
    expect(texts).toEqual(expected);
    expect(ids[0]).not.toBe(ids[1]);
  });

  test('a time zone after a timestamp belongs to it', () => {
    const { texts } = mine(['at 2024-05-01 10:20:30 PDT worker started', 'at 2024-05-01 10:20:31 UTC worker started']);
    expect(texts).toEqual(['at <*> worker started', 'at <*> worker started']);
  });
});

describe('template ids', () => {
  test('are the first 16 hex digits of SHA-256 of the template text', () => {
    const { texts, ids } = mine(['PacketResponder 1 for block blk_38865049064139660 terminating']);
    expect(texts[0]).toBe('PacketResponder <*> for block <*> terminating');
    expect(ids[0]).toBe(createHash('sha256').update(texts[0]!).digest('hex').slice(0, 16));
    expect(ids[0]).toBe(templateId(texts[0]!));
  });

  test('are equal in independent miners (replicas)', () => {
    const lines = ['Received block blk_1 of size 67108864 from /10.0.0.1', 'Received block blk_2 of size 3 from /10.0.0.2'];
    expect(mine(lines).ids).toEqual(mine([...lines]).ids);
  });

  test('an id replaced by a generalisation stays resolvable through the alias map', () => {
    const miner = new TemplateMiner();
    const first = miner.add('job finished after retry for tenant alpha with status done').family.id;
    const second = miner.add('job finished after retry for tenant beta with status done').family.id;
    expect(second).not.toBe(first);
    expect(miner.resolve(first)).toBe(second);
    expect(miner.resolve(second)).toBe(second);
    expect(miner.templateText(second)).toBe('job finished after retry for tenant <*> with status done');
    expect(miner.resolve('0000000000000000')).toBeUndefined();
  });

  test('ids of templates folded into another resolve to it', () => {
    const miner = new TemplateMiner();
    const a = miner.add('Invalid user alice from 10.0.0.1').family.id;
    const b = miner.add('Invalid user bob from 10.0.0.1').family.id;
    const c = miner.add('Invalid user carol from 10.0.0.1').family.id;
    expect(miner.resolve(a)).toBe(c);
    expect(miner.resolve(b)).toBe(c);
  });

  test('never throw and are deterministic for arbitrary text', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 60 }), { maxLength: 30 }), (lines) => {
        const a = mine(lines, { maxTemplates: 5 });
        const b = mine(lines, { maxTemplates: 5 });
        expect(a.ids).toEqual(b.ids);
        for (const id of a.ids) expect(id).toMatch(/^[0-9a-f]{16}$/);
      }),
    );
  });
});

describe('bounded memory', () => {
  // A distinct leading word: templates that never merge.
  const distinct = (i: number): string => `${'abcdefghij'[i % 10]}${'klmnopqrst'[Math.floor(i / 10) % 10]}${'uvwxyzabcd'[Math.floor(i / 100) % 10]} event happened`;

  test('holds at most max_templates, evicting the least recently matched', () => {
    const miner = new TemplateMiner({ maxTemplates: 10 });
    const keep = miner.add('heartbeat ok from the scheduler').family.id;
    for (let i = 0; i < 200; i++) {
      miner.add(distinct(i));
      miner.add('heartbeat ok from the scheduler');
      expect(miner.stats().shapes).toBeLessThanOrEqual(10);
    }
    expect(miner.stats().evicted).toBeGreaterThan(0);
    expect(miner.resolve(keep)).toBe(keep);
    expect(miner.resolve(templateId(distinct(0)))).toBeUndefined();
  });

  test('an evicted template comes back with the same id', () => {
    const miner = new TemplateMiner({ maxTemplates: 2 });
    const id = miner.add('cache warmed for tenant').family.id;
    miner.add('first other message here');
    miner.add('second other message here');
    expect(miner.resolve(id)).toBeUndefined();
    expect(miner.add('cache warmed for tenant').family.id).toBe(id);
  });

  test('bounds one tree leaf: a message with several word variables cannot make every line scan a growing list', () => {
    const miner = new TemplateMiner();
    const word = (i: number, salt: number): string => Array.from({ length: 5 }, (_, k) => 'abcdefghijklmnopqrstuvwxyz'[(i * (7 + salt) + k * 11 + salt) % 26]).join('') + 'abcdefghijklmnopqrstuvwxyz'[Math.floor(i / 26) % 26];
    const start = Date.now();
    for (let i = 0; i < 3000; i++) miner.add(`service request handled ${word(i, 1)} for ${word(i, 2)} with ${word(i, 3)}`);
    expect(miner.stats().shapes).toBeLessThanOrEqual(128);
    expect(miner.stats().evicted).toBeGreaterThan(0);
    expect(Date.now() - start).toBeLessThan(5000);
  });

  test('keeps the alias map bounded', () => {
    const miner = new TemplateMiner({ maxTemplates: 2 });
    for (let i = 0; i < 100; i++) {
      miner.add(`${distinct(i)} finished after retry for tenant alpha with status done`);
      miner.add(`${distinct(i)} finished after retry for tenant beta with status done`);
    }
    expect(miner.stats().aliases).toBeLessThanOrEqual(8);
  });
});

describe('parameters', () => {
  test('are the line values at the template wildcards', () => {
    const miner = new TemplateMiner();
    miner.add('Deleting block blk_1 file /data/blk_1');
    const shape = miner.add('Deleting block blk_2 file /data/blk_2');
    expect(shape.tokens.filter((t) => t === WILDCARD)).toHaveLength(2);
    expect(miner.parameters(shape)).toEqual(['blk_2', '/data/blk_2']);
  });
});

describe('options', () => {
  test.each([
    [{ similarity: 1.5 }, /similarity/],
    [{ depth: 2 }, /depth/],
    [{ maxTemplates: 0 }, /maxTemplates/],
    [{ maxTokens: 1 }, /maxTokens/],
  ])('rejects %j', (options, message) => {
    expect(() => new TemplateMiner(options)).toThrow(message);
  });
});

describe('match', () => {
  test('finds the template a line would join without learning from it', () => {
    const miner = new TemplateMiner();
    miner.add('Received block blk_1 of size 10 from /10.0.0.1');
    expect(miner.match('Received block blk_2 of size 99 from /10.0.0.2')?.family.text).toBe('Received block blk_1 of size <*> from <*>');
    expect(miner.match('something else entirely')).toBeUndefined();
    expect(miner.stats().templates).toBe(1);
  });
});
