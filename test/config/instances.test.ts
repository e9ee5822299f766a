/** Named processor instances: `type/name` in the chain, with options of their own. */
import pino from 'pino';
import { ConfigError } from '../../src/config/load';
import { resolveConfig } from '../../src/config/resolve';
import { ProcessingChain } from '../../src/pipeline/chain';
import { createStages } from '../../src/pipeline/stages';
import { builtinProcessors } from '../../src/processors/registry';
import { resolveServiceConfig } from '../../src/processors/custom';
import { Metrics } from '../../src/telemetry/metrics';
import { record, request } from '../helpers/builders';
import { runChain } from '../helpers/processors';
import { plainAttributes } from '../helpers/values';

const base = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OLP_WORKERS: '0' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    resolveConfig({ ...base, ...env }, builtinProcessors);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  return [];
}

describe('named processor instances', () => {
  const mixed = {
    OLP_PROCESSORS: 'parse/json,parse/logfmt,severity',
    OLP_PARSE__JSON_FORMAT: 'json',
    OLP_PARSE__JSON_WHERE: 'body.startsWith("{")',
    OLP_PARSE__LOGFMT_FORMAT: 'logfmt',
    OLP_PARSE__LOGFMT_WHERE: 'body.contains("=") && !body.startsWith("{")',
  };

  test('each instance reads its own OLP_<TYPE>__<NAME>_* options', () => {
    const config = resolveConfig({ ...base, ...mixed }, builtinProcessors);
    expect(config.service[''].processors).toEqual(['parse/json', 'parse/logfmt', 'severity']);
    expect(config.processorOptions['parse/json']).toMatchObject({ format: 'json', where: 'body.startsWith("{")' });
    expect(config.processorOptions['parse/logfmt']).toMatchObject({ format: 'logfmt' });
  });

  test('one stream of mixed formats is parsed in one hop, and each instance counts under its own name', async () => {
    const config = resolveConfig({ ...base, ...mixed }, builtinProcessors);
    const logger = pino({ level: 'silent' });
    const metrics = new Metrics();
    const chain = new ProcessingChain(createStages(config, builtinProcessors, { logger, clock: { now: () => 0 }, env: {} }), metrics, logger);
    const out = runChain(chain, request([record('{"msg":"from json","user":"ann"}'), record('msg="from logfmt" user=bob'), record('plain text')]));
    const users = out.resourceLogs[0]!.scopeLogs[0]!.logRecords.map((r) => plainAttributes(r.attributes).user);
    expect(users).toEqual(['ann', 'bob', undefined]);
    const incoming = (await metrics.processorIncoming.get()).values.map((v) => [v.labels.processor, v.value]);
    expect(incoming).toEqual(expect.arrayContaining([['parse/json', 3], ['parse/logfmt', 3], ['severity', 3]]));
  });

  test.each<[string, Record<string, string>, string]>([
    ['an instance name with upper-case letters', { OLP_PROCESSORS: 'parse/Json' }, '"parse/Json": an instance name is lower-case letters and digits'],
    ['an instance of an unknown type', { OLP_PROCESSORS: 'nope/x' }, 'unknown processor "nope/x"'],
    ['the same instance twice', { OLP_PROCESSORS: 'parse/json,parse/json' }, 'processor "parse/json" is listed twice'],
    ['the plain type twice, pointing at instances', { OLP_PROCESSORS: 'parse,parse' }, 'name another instance parse/<name>'],
    ['an invalid option value of an instance', { OLP_PROCESSORS: 'parse/json', OLP_PARSE__JSON_FORMAT: 'yaml' }, 'OLP_PARSE__JSON_FORMAT'],
    ['an option of an instance not in the chain', { OLP_PROCESSORS: 'parse/json', OLP_PARSE__XML_FORMAT: 'json' }, 'OLP_PARSE__XML_FORMAT'],
  ])('refuses %s, naming it', (_name, env, message) => {
    expect(problemsOf(env).join('\n')).toContain(message);
  });
});

test('a misspelt instance name is explained as such where modules are resolved, not taken for a module path', () => {
  let error: unknown;
  try {
    resolveServiceConfig({ ...base, OLP_PROCESSORS: 'parse/Json' });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).problems.join('\n')).toContain('"parse/Json": an instance name is lower-case letters and digits');
});
