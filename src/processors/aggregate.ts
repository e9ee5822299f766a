/**
 * `aggregate`: windowed counts over the stream, an error-spike detector and first-seen
 * template flags. It observes and passes every record on (only `log.template.new` is added).
 *
 * Windows. Tumbling, `window` long, aligned to the Unix epoch ([i·W, (i+1)·W)), kept per group
 * (the `group_by` resource attributes, default service.name). A record belongs to the window of
 * its observed_time_unix_nano, else its time_unix_nano, else the processor clock. Windows are
 * closed by `flush(now)` once end + `allowed_lateness` ≤ now (processor clock), or all at once by
 * the final flush at shutdown. A record whose window is closed, or would be closed by a flush
 * now, is counted `late` in the window of the processor clock instead; one more than one window
 * ahead of the clock is counted `future` there too. So a group has at most
 * 2 + lateness/window open windows, and no count is ever lost or emitted twice.
 *
 * Output per closed window and group (flush): a `log.aggregate.window` summary record (counts per
 * dimension value, top `top` + `_other`) and, when the window's error count is a spike against
 * the group's previous windows (src/aggregate/spike.ts), a `log.anomaly` = `error_spike` record.
 * The last closed window, all groups summed, is also exposed as `windowCounts` for the metrics.
 *
 * Bounds: `max_groups` groups (LRU; an evicted group loses its open windows and baseline),
 * `max_keys` values per dimension per window (then `_other`), values cut at 256 characters,
 * `max_templates` remembered template ids (approximately LRU: src/aggregate/seen.ts).
 */
import { splitInstance } from '../config/instances';
import { z } from 'zod';
import { opt } from '../config/options';
import { OptionError, defineProcessor } from './contract';
import type { LogBatch, Resource } from '../records/types';
import { OTHER, Group } from '../aggregate/windows';
import { millisFromNanos } from '../aggregate/time';
import { SeenSet } from '../aggregate/seen';
import { SeverityClassifier, attributeText } from '../aggregate/record-values';
import { AGGREGATE_SCOPE, ANOMALY_EVENT, WINDOW_EVENT, WindowOutput, type Closed } from '../aggregate/output';
import { TEMPLATE_ID_ATTRIBUTE } from './classify';
import { parseNumber } from './sample';

export const TEMPLATE_NEW_ATTRIBUTE = 'log.template.new';
export const SEVERITY_DIMENSION = 'severity';
export { AGGREGATE_SCOPE, ANOMALY_EVENT, OTHER, WINDOW_EVENT };

/** Records with an effective SeverityNumber at or above this (ERROR) are errors. */
const ERROR_SEVERITY = 17;
/** Most windows `allowed_lateness` may span (each keeps an open window per group). */
const MAX_LATENESS_WINDOWS = 10;
/**
 * How often the runner calls flush. Windows are whole seconds, so a window's close time is
 * never more than 1 s behind when its summary is emitted; a flush that closes nothing costs one
 * look at each group's oldest window. Checking more often would only shave that second.
 */
const FLUSH_INTERVAL_MS = 1000;
/** Group-key part of a missing group-by attribute (differs from an empty value). */
const MISSING = '\u0001';

function numberOption(min: number, def: number, doc: string) {
  return opt.custom<number>('number', parseNumber, z.number().min(min, `must be at least ${min}`), def, doc);
}

export const aggregateProcessor = defineProcessor({
  name: 'aggregate',
  summary: 'Counts records per severity, category, template or attribute in tumbling windows, emits a summary record per window, flags error spikes and first-seen templates.',
  parallel: false,
  options: {
    window: opt.duration('60s', 'Length of the tumbling windows (whole seconds), aligned to the Unix epoch; kept per `group_by` group.', { min: 1000 }),
    dimensions: opt.list(
      [SEVERITY_DIMENSION, 'log.category', TEMPLATE_ID_ATTRIBUTE],
      'What is counted per value: `severity` (the severity number\'s short name without digit, TRACE…FATAL, or the normalised severity text when there is no number; UNSPECIFIED), or a record attribute key (falling back to a resource attribute with that key). Records without the attribute are not counted in that dimension.',
    ),
    group_by: opt.list(['service.name'], 'Resource attribute keys whose values name a group; windows, summaries and spike baselines are per group. Empty: one group.'),
    allowed_lateness: opt.duration('0s', 'How long after its end a window still takes records (by their timestamps); later ones count `late` in the current window. At most 10 windows.'),
    max_keys: opt.int(1000, 'Distinct values counted per dimension per window and group; further values are counted as `_other` (event `overflow`).', { min: 1, max: 100_000 }),
    max_groups: opt.int(1000, 'Groups kept (LRU); the least recently seen one is forgotten beyond it, with its open windows and baseline (event `groups_evicted`).', { min: 1, max: 1_000_000 }),
    top: opt.int(20, 'Values listed per dimension in a summary record and in the window metrics; the rest are summed as `_other`.', { min: 1, max: 100_000 }),
    summary: opt.bool(true, 'Emit a `log.aggregate.window` summary record per closed window and group; false: only metrics and anomaly records.'),
    spike_k: numberOption(0, 3, 'An error spike is a window with more errors than mean + k × max(stddev, √mean, 1) of the group\'s previous windows.'),
    spike_windows: opt.int(10, 'Previous windows of the group in the spike baseline (windows without records count as 0 errors); no spike is flagged before 3 of them.', { min: 3, max: 1000 }),
    spike_min_errors: opt.int(10, 'A window with fewer errors (severity_number ≥ 17, or an error severity text) is never a spike.', { min: 0 }),
    new_templates: opt.bool(true, 'Set `log.template.new` = true on the first record carrying each `log.template.id`; needs `classify` before `aggregate` in the chain (otherwise off).'),
    max_templates: opt.int(100_000, 'Template ids remembered for `new_templates` (about LRU: an id seen at least once per max/2 new ids is never forgotten); one forgotten and seen again is flagged again.', { min: 1, max: 10_000_000 }),
    state_path: opt.string('', 'File the seen template ids are saved to (periodically and at shutdown) and loaded from at start, so a restart does not flag every template again; empty: no persistence.'),
    state_interval: opt.duration('60s', 'How often the seen template ids are saved while running; 0s: only at shutdown.'),
  },
  create(o, ctx) {
    // The loader checks these ranges too; create checks them for callers that skip the loader.
    const windowMs = o.window;
    if (!Number.isInteger(windowMs) || windowMs < 1000 || windowMs % 1000 !== 0) throw new OptionError('window', 'must be a whole number of seconds, at least 1s');
    const latenessMs = o.allowed_lateness;
    if (!Number.isInteger(latenessMs) || latenessMs < 0) throw new OptionError('allowed_lateness', 'must be a duration of 0s or more');
    if (latenessMs > MAX_LATENESS_WINDOWS * windowMs) throw new OptionError('allowed_lateness', `must be at most ${MAX_LATENESS_WINDOWS} windows`);
    if (!Number.isFinite(o.spike_k) || o.spike_k < 0) throw new OptionError('spike_k', 'must be a number of at least 0');
    if (!Number.isInteger(o.spike_windows) || o.spike_windows < 3) throw new OptionError('spike_windows', 'must be at least 3');
    if (!Number.isInteger(o.spike_min_errors) || o.spike_min_errors < 0) throw new OptionError('spike_min_errors', 'must be at least 0');
    for (const name of ['max_keys', 'max_groups', 'top', 'max_templates'] as const) {
      if (!Number.isInteger(o[name]) || o[name] < 1) throw new OptionError(name, 'must be at least 1');
    }
    const dimensions = o.dimensions.map((d) => d.trim());
    for (let i = 0; i < dimensions.length; i++) {
      if (dimensions[i] === '') throw new OptionError('dimensions', 'has an empty name');
      if (dimensions.indexOf(dimensions[i]!) !== i) throw new OptionError('dimensions', `names "${dimensions[i]}" twice`);
    }
    const groupBy = [...new Set(o.group_by.map((k) => k.trim()).filter((k) => k !== ''))];
    if (o.state_path !== '' && !o.new_templates) throw new OptionError('state_path', 'needs new_templates on: only the seen template ids are persisted');

    let newTemplates = o.new_templates;
    if (newTemplates && ctx.chain !== undefined) {
      const types = ctx.chain.map((entry) => splitInstance(entry).type);
      const self = types.indexOf('aggregate');
      if (!(self < 0 ? types : types.slice(0, self)).includes('classify')) {
        newTemplates = false;
        ctx.logger.debug('aggregate: classify does not run before aggregate, so log.template.new is not set');
      }
    }

    const nDims = dimensions.length;
    const sevSlot = dimensions.indexOf(SEVERITY_DIMENSION);
    const attrKeys: string[] = [];
    const attrSlots: number[] = [];
    dimensions.forEach((d, i) => {
      if (i !== sevSlot) {
        attrKeys.push(d);
        attrSlots.push(i);
      }
    });
    const nAttr = attrKeys.length;
    /** Index in attrKeys of the template id, whose record value `new_templates` reuses; -1 when not a dimension. */
    const templateAttr = attrKeys.indexOf(TEMPLATE_ID_ATTRIBUTE);
    const resourceValues: (string | undefined)[] = new Array<string | undefined>(nAttr).fill(undefined);
    const maxKeys = o.max_keys;
    const maxGroups = o.max_groups;
    const top = o.top;
    const k = o.spike_k;
    const minErrors = o.spike_min_errors;

    const counts = new Map<string, number>([
      ['windows', 0],
      ['error_spikes', 0],
      ['late', 0],
      ['future', 0],
      ['overflow', 0],
      ['groups_evicted', 0],
      ['new_templates', 0],
    ]);
    const bump = (event: string, n: number): void => {
      if (n !== 0) counts.set(event, counts.get(event)! + n);
    };

    /** Insertion order is recency: a group is moved to the end when seen. */
    const groups = new Map<string, Group>();
    let recentKey: string | undefined;
    const groupOf = (resource: Resource): Group => {
      const attrs = resource.attributes;
      let key = '';
      for (let i = 0; i < groupBy.length; i++) {
        const v = attributeText(attrs, groupBy[i]!);
        key = i === 0 ? (v ?? MISSING) : key + '\u0000' + (v ?? MISSING);
      }
      let g = groups.get(key);
      if (g === undefined) {
        const present: [string, string][] = [];
        for (const gk of groupBy) {
          const v = attributeText(attrs, gk);
          if (v !== undefined) present.push([gk, v]);
        }
        g = new Group(key, present, o.spike_windows);
        groups.set(key, g);
        if (groups.size > maxGroups) {
          groups.delete(groups.keys().next().value!);
          bump('groups_evicted', 1);
        }
      } else if (key !== recentKey) {
        groups.delete(key);
        groups.set(key, g);
      }
      recentKey = key;
      return g;
    };

    const severities = new SeverityClassifier();
    const seen = newTemplates ? new SeenSet(o.max_templates) : undefined;
    const output = new WindowOutput({ windowMs, dimensions, top, k, summary: o.summary, resource: ctx.resource ?? [] });
    let windowCounts: ReadonlyMap<string, ReadonlyMap<string, number>> | undefined;

    ctx.logger.debug({ windowMs, dimensions, groupBy, latenessMs, newTemplates }, 'aggregate processor created');

    return {
      counts,
      flushIntervalMs: FLUSH_INTERVAL_MS,
      get windowCounts() {
        return windowCounts;
      },

      process(batch: LogBatch): void {
        const now = ctx.clock.now();
        const clockIndex = Math.floor(now / windowMs);
        // Windows below `open` are closable at `now` ((i + 1)·W + lateness ≤ now).
        const open = Math.floor((now - latenessMs) / windowMs);
        const ahead = clockIndex + 1;
        let late = 0;
        let future = 0;
        let overflow = 0;
        let flagged = 0;
        // Per resource (one object for the records of a resource group): its aggregate group,
        // window bounds and resource dimension values, looked up when the resource changes.
        let resource: Resource | undefined;
        let group: Group | undefined;
        let lo = 0;
        let current = 0;
        for (const rec of batch) {
          const res = rec.resource;
          if (res !== resource) {
            resource = res;
            group = groupOf(res);
            lo = Math.max(open, group.minOpen);
            current = Math.max(clockIndex, group.minOpen);
            if (nAttr > 0) {
              const resAttrs = res.attributes;
              for (let a = 0; a < nAttr; a++) resourceValues[a] = attributeText(resAttrs, attrKeys[a]!);
            }
          }
          let t = millisFromNanos(rec.observedTimeUnixNano);
          if (t < 0) t = millisFromNanos(rec.timeUnixNano);
          let index = t < 0 ? current : Math.floor(t / windowMs);
          if (index < lo) {
            late++;
            index = current;
          } else if (index > ahead) {
            future++;
            index = current;
          }
          const w = group!.window(index, nDims);
          w.records++;
          const sev = severities.classify(rec);
          if (sev.number >= ERROR_SEVERITY) w.errors++;
          if (sevSlot >= 0 && !w.add(sevSlot, sev.name, maxKeys)) overflow++;
          if (nAttr === 0 && seen === undefined) continue;
          const attrs = rec.attributes;
          let template: string | undefined;
          for (let a = 0; a < nAttr; a++) {
            const own = attributeText(attrs, attrKeys[a]!);
            if (a === templateAttr) template = own;
            const v = own ?? resourceValues[a];
            if (v !== undefined && !w.add(attrSlots[a]!, v, maxKeys)) overflow++;
          }
          if (seen !== undefined) {
            const id = templateAttr >= 0 ? template : attributeText(attrs, TEMPLATE_ID_ATTRIBUTE);
            if (id !== undefined && id !== '' && seen.add(id)) {
              attrs.set(TEMPLATE_NEW_ATTRIBUTE, true);
              flagged++;
            }
          }
        }
        bump('late', late);
        bump('future', future);
        bump('overflow', overflow);
        bump('new_templates', flagged);
      },

      flush(now: number, final: boolean, out: LogBatch): void {
        const before = final ? Infinity : Math.floor((now - latenessMs) / windowMs);
        const closed: Closed[] = [];
        for (const group of groups.values()) {
          if (group.windows.length === 0 || group.windows[0]!.index >= before) continue;
          for (const window of group.takeClosable(before)) {
            // Windows the group sent nothing in had no errors either.
            if (group.lastClosed !== -Infinity && window.index > group.lastClosed + 1) group.baseline.pushZeros(window.index - group.lastClosed - 1);
            group.lastClosed = window.index;
            closed.push({ group, window, spike: group.baseline.observe(window.errors, k, minErrors) });
          }
        }
        if (closed.length === 0) return;
        // Chronological, then by group key: the output does not depend on group recency.
        closed.sort((a, b) => a.window.index - b.window.index || (a.group.key < b.group.key ? -1 : a.group.key > b.group.key ? 1 : 0));
        windowCounts = output.windowCounts(closed);
        let spikes = 0;
        for (const c of closed) if (c.spike !== undefined) spikes++;
        bump('windows', closed.length);
        bump('error_spikes', spikes);
        output.emit(closed, now, out);
      },

      ...(seen !== undefined && o.state_path !== ''
        ? {
            state: {
              path: o.state_path,
              intervalMs: o.state_interval,
              snapshot: () => Buffer.from(JSON.stringify({ version: 1, templates: seen.keys() })),
              restore: (data: Uint8Array) => {
                const parsed = JSON.parse(Buffer.from(data).toString('utf8')) as { version?: unknown; templates?: unknown };
                if (parsed?.version !== 1 || !Array.isArray(parsed.templates) || !parsed.templates.every((t) => typeof t === 'string')) {
                  throw new Error('not an aggregate template snapshot (version 1)');
                }
                seen.clear();
                // Least recently seen first, so that recency survives the restart.
                for (const t of parsed.templates as string[]) seen.add(t);
              },
            },
          }
        : {}),
    };
  },
});
