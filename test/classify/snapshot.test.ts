import { decodeSnapshot, encodeSnapshot } from '../../src/classify/snapshot';
import { templateId } from '../../src/classify/template-id';
import { TemplateMiner } from '../../src/classify/template-miner';

const LINES = [
  'PacketResponder 1 for block blk_38865049064139660 terminating',
  'PacketResponder 0 for block blk_-6952295868487656571 terminating',
  'Received block blk_3587508140051953248 of size 67108864 from /10.251.42.84',
  'Invalid user alice from 10.0.0.1',
  'Invalid user bob from 10.0.0.2',
  'Invalid user carol from 10.0.0.3',
  'sent 10 bytes, lifetime 04:50',
  'sent 2717 bytes (2.65 KB), lifetime <1 sec',
  'job finished after retry for tenant alpha with status done',
  'job finished after retry for tenant beta with status done',
];

function restored(from: TemplateMiner, options = {}): TemplateMiner {
  const miner = new TemplateMiner(options);
  miner.importState(decodeSnapshot(encodeSnapshot(from.exportState())));
  return miner;
}

describe('template snapshot', () => {
  test('round-trips: after a restart the same lines get the same template ids', () => {
    const before = new TemplateMiner();
    for (const l of LINES) before.add(l);
    const ids = LINES.map((l) => before.add(l).family.id);
    const after = restored(before);
    expect(after.exportState()).toEqual(before.exportState());
    expect(after.stats()).toEqual(before.stats());
    expect(LINES.map((l) => after.add(l).family.id)).toEqual(ids);
  });

  test('keeps the alias map: ids replaced before the restart still resolve', () => {
    const before = new TemplateMiner();
    const early = before.add(LINES[8]!).family.id;
    const late = before.add(LINES[9]!).family.id;
    const after = restored(before);
    expect(after.resolve(early)).toBe(late);
  });

  test('keeps the most recently used templates when max_templates shrank', () => {
    const before = new TemplateMiner();
    for (const l of LINES) before.add(l);
    const newest = before.add(LINES[0]!).family.id;
    const after = restored(before, { maxTemplates: 1 });
    expect(after.stats().shapes).toBe(1);
    expect(after.resolve(newest)).toBe(newest);
  });

  test('is UTF-8 JSON with a format marker', () => {
    const miner = new TemplateMiner();
    miner.add('hello wörld 42');
    const json = JSON.parse(Buffer.from(encodeSnapshot(miner.exportState())).toString('utf8')) as Record<string, unknown>;
    expect(json).toMatchObject({ format: 'olp.classify.templates', version: 2 });
  });

  test('loads a version-1 snapshot (no slot counts) with its ids', () => {
    const v1 = {
      format: 'olp.classify.templates',
      version: 1,
      families: [{ text: 'request <*> ok' }],
      shapes: [{ tokens: ['request', '<*>', 'ok'], seps: ['', ' ', ' ', ''], count: 7, family: 0 }],
      aliases: [],
    };
    const miner = new TemplateMiner();
    miner.importState(decodeSnapshot(bytes(v1)));
    expect(miner.template(miner.add('request GET ok'))).toMatchObject({ text: 'request <*> ok', id: templateId('request <*> ok') });
  });

  test('keeps slot counts: an event word is reported the same after a restart', () => {
    const before = new TemplateMiner();
    const lines = ['request GET ok', 'request POST ok', 'request PUT ok'];
    for (let i = 0; i < 3; i++) for (const l of lines) before.add(l);
    const after = restored(before);
    expect(after.template(after.add('request PUT ok')).text).toBe('request PUT ok');
  });

  const valid = (): Record<string, unknown> => {
    const miner = new TemplateMiner();
    for (const l of LINES) miner.add(l);
    return JSON.parse(Buffer.from(encodeSnapshot(miner.exportState())).toString('utf8')) as Record<string, unknown>;
  };
  const bytes = (v: unknown): Uint8Array => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

  test.each([
    ['not JSON', () => 'not json{', /not JSON/],
    ['truncated JSON', () => JSON.stringify(valid()).slice(0, 40), /not JSON/],
    ['another format', () => ({ ...valid(), format: 'other' }), /format/],
    ['a newer version', () => ({ ...valid(), version: 3 }), /version/],
    ['a slot past the tokens', () => ({ ...valid(), shapes: [{ tokens: ['a'], seps: ['', ''], count: 1, family: 0, slots: [[5, [['GET', 2]], 2]] }] }), /position/],
    ['a slot without words', () => ({ ...valid(), shapes: [{ tokens: ['a'], seps: ['', ''], count: 1, family: 0, slots: [[0, [], 2]] }] }), /slots/],
    ['separators that do not fit the tokens', () => ({ ...valid(), shapes: [{ tokens: ['a'], seps: [''], count: 1, family: 0 }] }), /seps/],
    ['a family index out of range', () => ({ ...valid(), shapes: [{ tokens: ['a'], seps: ['', ''], count: 1, family: 99 }] }), /family/],
    ['a malformed alias', () => ({ ...valid(), aliases: [['xyz', '0123456789abcdef']] }), /aliases/],
    ['a negative count', () => ({ ...valid(), shapes: [{ tokens: ['a'], seps: ['', ''], count: -1, family: 0 }] }), /count/],
    ['unknown fields', () => ({ ...valid(), extra: true }), /invalid template snapshot/],
  ])('rejects %s', (_name, make, message) => {
    expect(() => decodeSnapshot(bytes(make()))).toThrow(message);
  });

  test('a rejected snapshot leaves the miner as it was', () => {
    const miner = new TemplateMiner();
    const id = miner.add('cache warmed for tenant').family.id;
    expect(() => miner.importState(decodeSnapshot(bytes('{')))).toThrow();
    expect(miner.resolve(id)).toBe(id);
  });
});
