/**
 * `filter`: drops records matching a CEL condition (OLP_FILTER_DROP), as the Collector's filter
 * processor does with OTTL conditions. Scopes and resources left without records are not written.
 * With OLP_FILTER_WHERE also set, a record is dropped only when both conditions hold.
 */
import { opt } from '../config/options';
import { compileCondition } from '../conditions';
import type { LogBatch } from '../records/types';
import { defineProcessor, OptionError } from './contract';

export const filterProcessor = defineProcessor({
  name: 'filter',
  summary: 'Drops records matching a CEL condition (e.g. `severity_number < 13`).',
  options: {
    drop: opt.string(
      '',
      'CEL condition; matching records are dropped (counted as reason `filtered`). Required when `filter` is in the chain. A record whose evaluation fails is kept.',
    ),
  },
  create(o) {
    if (o.drop.trim() === '') throw new OptionError('drop', 'required when the filter processor is in OLP_PROCESSORS (a CEL condition, e.g. severity_number < 13)');
    let condition;
    try {
      condition = compileCondition(o.drop);
    } catch (e) {
      throw new OptionError('drop', (e as Error).message);
    }
    const counts = new Map<string, number>([['evaluation_errors', 0]]);
    return {
      counts,
      process(batch: LogBatch): void {
        condition.reset();
        const errorsBefore = condition.errors;
        for (const rec of batch) if (condition.matches(rec)) rec.drop('filtered');
        if (condition.errors !== errorsBefore) counts.set('evaluation_errors', counts.get('evaluation_errors')! + condition.errors - errorsBefore);
      },
    };
  },
});
