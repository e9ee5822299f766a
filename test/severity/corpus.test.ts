/**
 * Table-driven: every line of test/severity/corpus/<format>.txt (written from each format's
 * documentation, not from Loghub) must get its expected base level, through the locator and
 * through the processor with its defaults.
 */
import { newLogRecord, stringValue } from '../../src/otlp/values';
import { severityProcessor } from '../../src/processors/severity';
import { baseLevel, loadCorpus } from '../../bench/severity-corpus';
import { createProcessor, runProcessor } from '../helpers/processors';

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
      const rec = newLogRecord({ body: stringValue(c.body) });
      const { out } = runProcessor(createProcessor(severityProcessor), { resourceLogs: [{ resource: null, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords: [rec] }] }] });
      expect(baseLevel(out.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.severityNumber)).toBe(expected);
    });
  });
});
