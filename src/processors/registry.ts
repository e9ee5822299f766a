/** The built-in processors, by the name used in OLP_PROCESSORS. */
import type { ProcessorFactory } from '../pipeline/processor';
import { attributesProcessor } from './attributes';
import { parseProcessor } from './parse';
import { redactProcessor } from './redact';
import { resourceProcessor } from './resource';
import { severityProcessor } from './severity';

export const builtinProcessors: readonly ProcessorFactory<any>[] = [parseProcessor, severityProcessor, resourceProcessor, attributesProcessor, redactProcessor];
