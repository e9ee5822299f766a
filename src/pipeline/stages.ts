/**
 * Builds what processes requests from the resolved configuration, the same on the event-loop
 * thread and in worker threads: the chain's stages (processors created, `where` conditions
 * compiled) and the request processor's settings.
 */
import type { OptionShape, OptionValues } from '../config/options';
import { envNames } from '../config/options';
import { ConfigError } from '../config/load';
import { splitInstance } from '../config/instances';
import type { ResolvedConfig } from '../config/resolve';
import { compileCondition, whereOption, type Condition } from '../conditions';
import { resourceAttributes, resourceProcessor } from '../processors/resource';
import type { ChainStage } from './chain';
import { OptionError, type ProcessorContext, type ProcessorFactory } from '../processors/contract';
import type { RequestSettings } from './request-processor';
import { workersConflict } from './worker-pool';

/** Creates the chain's processors; option errors become a ConfigError naming the env var. */
export function createStages(config: ResolvedConfig, factories: readonly ProcessorFactory<OptionShape>[], ctx: ProcessorContext): ChainStage[] {
  const problems: string[] = [];
  const stages: ChainStage[] = [];
  const chain = config.service[''].processors;
  const resourceOptions = config.processorOptions.resource as OptionValues<typeof resourceProcessor.options> | undefined;
  const resource = resourceOptions ? resourceAttributes(resourceOptions) : [];
  for (const name of chain) {
    const factory = factories.find((p) => p.name === splitInstance(name).type)!;
    // `where` belongs to the chain, not the factory: compile it here and pass the rest on.
    const { where: whereText, ...options } = config.processorOptions[name] as OptionValues<OptionShape> & { where?: string };
    let where: Condition | undefined;
    try {
      if (whereText) where = compileCondition(whereText);
    } catch (e) {
      problems.push(`${envNames(name, 'where', whereOption)[0]}: ${(e as Error).message}`);
    }
    try {
      stages.push({ name, processor: factory.create(options, { ...ctx, logger: ctx.logger.child({ processor: name }), chain, exporters: config.exporters, resource }), where });
    } catch (e) {
      if (!(e instanceof OptionError)) throw e;
      const option = e.option === 'where' ? whereOption : factory.options[e.option];
      problems.push(`${option ? envNames(name, e.option, option)[0] : `processor ${name}`}: ${e.message}`);
    }
  }
  if (problems.length === 0) {
    const conflict = workersConflict(config, factories, stages);
    if (conflict) problems.push(conflict);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return stages;
}

/** Request processor settings from the configuration (the same on the event-loop thread and in worker threads). */
export function requestSettings(config: ResolvedConfig): RequestSettings {
  const s = config.service;
  return {
    limits: {
      maxBodyBytes: s.limits.max_body_bytes,
      maxAttributes: s.limits.max_attributes,
      maxAttributeKeyBytes: s.limits.max_attribute_key_bytes,
      maxAttributeValueBytes: s.limits.max_attribute_value_bytes,
      maxDepth: s.limits.max_depth,
      maxCollectionLength: s.limits.max_collection_length,
    },
    maxRecordsPerRequest: s.limits.max_records,
    batchMaxRecords: s.batch.max_records,
    exporterCount: config.exporterSpecs.length,
  };
}
