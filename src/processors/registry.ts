/** The built-in processors, by the name used in OLP_PROCESSORS. */
import type { ProcessorFactory } from './contract';
import { aggregateProcessor } from './aggregate';
import { attributesProcessor } from './attributes';
import { filterProcessor } from './filter';
import { classifyProcessor } from './classify';
import { transformProcessor } from './transform';
import { sampleProcessor } from './sample';
import { dedupProcessor } from './dedup';
import { rateLimitProcessor } from './rate-limit';
import { parseProcessor } from './parse';
import { redactProcessor } from './redact';
import { resourceProcessor } from './resource';
import { routeProcessor } from './route';
import { severityProcessor } from './severity';

export const builtinProcessors: readonly ProcessorFactory<any>[] = [
  parseProcessor,
  severityProcessor,
  resourceProcessor,
  attributesProcessor,
  transformProcessor,
  filterProcessor,
  redactProcessor,
  classifyProcessor,
  sampleProcessor,
  dedupProcessor,
  rateLimitProcessor,
  aggregateProcessor,
  routeProcessor,
];
