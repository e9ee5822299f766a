/**
 * Table-driven: every line of test/severity/corpus/<format>.txt (written from each format's
 * documentation, not from Loghub) must get its expected base level, through the locator and
 * through the processor with its defaults.
 */
import pino from 'pino';
import type { OptionValues } from '../../src/config/options';
import { newLogRecord, stringValue } from '../../src/otlp/values';
import { severityProcessor } from '../../src/processors/severity';
import { baseLevel, loadCorpus } from '../../bench/severity-corpus';

type Options = OptionValues<typeof severityProcessor.options>;
const defaults = Object.fromEntries(Object.entries(severityProcessor.options).map(([k, o]) => [k, o.default])) as unknown as Options;

const corpus = loadCorpus();
const formats = [...new Set(corpus.map((c) => c.format))];

describe('severity corpus', () => {
  it('has at least 30 formats with at least 10 lines each, and more formats besides', () => {
    const counts = formats.map((f) => corpus.filter((c) => c.format === f).length);
    expect(counts.filter((n) => n >= 10).length).toBeGreaterThanOrEqual(30);
  });

  it('covers every level of every format only with known base levels', () => {
    for (const c of corpus) expect(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL']).toContain(c.expected);
  });

  describe.each(formats)('%s', (format) => {
    const lines = corpus.filter((c) => c.format === format);
    it.each(lines.map((c) => [c.lineNo, c.expected, c] as const))('line %i → %s', (_lineNo, expected, c) => {
      const processor = severityProcessor.create(defaults, { logger: pino({ level: 'silent' }), clock: { now: () => 0 }, env: {} });
      const rec = newLogRecord({ body: stringValue(c.body) });
      processor.process({ resourceLogs: [{ resource: null, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords: [rec] }] }] }, { drop() {} });
      expect(baseLevel(rec.severityNumber)).toBe(expected);
    });
  });
});
