/** The built-in processors, by the name used in OLP_PROCESSORS. */
import type { ProcessorFactory } from '../pipeline/processor';
import { attributesProcessor } from './attributes';
import { resourceProcessor } from './resource';
import { severityProcessor } from './severity';

export const builtinProcessors: readonly ProcessorFactory<any>[] = [severityProcessor, resourceProcessor, attributesProcessor];
