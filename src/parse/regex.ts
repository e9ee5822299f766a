/**
 * `regex`: a user's pattern with named groups, run by re2js (RE2 semantics: linear time in the
 * input, so no pattern can hang the service; no backreferences or lookaround). The pattern is
 * searched for anywhere in the text (anchor it with `^…$` to match whole lines); each named
 * group that took part in the match becomes a string field.
 */
import { RE2JS, type Matcher } from 're2js';
import type { KeyValue } from '../records/types';
import type { LineParser } from './types';

export class RegexParser implements LineParser {
  /** Reused for every record: the matcher is per processor instance, and a batch runs at a time. */
  private readonly matcher: Matcher;
  private readonly names: readonly string[];
  private readonly groups: readonly number[];

  /** Throws an Error describing an invalid pattern or one without named groups. */
  constructor(pattern: string) {
    if (pattern === '') throw new Error('a pattern with named groups is required, e.g. ^(?P<level>\\w+) (?P<message>.*)$');
    let re: RE2JS;
    try {
      re = RE2JS.compile(pattern);
    } catch (e) {
      throw new Error(`invalid pattern: ${(e as Error).message}`, { cause: e });
    }
    const named = Object.entries(re.namedGroups()).sort((a, b) => a[1] - b[1]);
    if (named.length === 0) throw new Error('the pattern has no named groups: name them as (?P<name>…) or (?<name>…)');
    this.names = named.map(([name]) => name);
    this.groups = named.map(([, index]) => index);
    this.matcher = re.matcher('');
  }

  /** Group names in pattern order. */
  get fieldNames(): readonly string[] {
    return this.names;
  }

  parse(text: string, out: KeyValue[]): string | undefined {
    const m = this.matcher;
    m.resetMatcherInput(text);
    if (!m.find()) return 'no_match';
    for (let g = 0; g < this.groups.length; g++) {
      const v = m.group(this.groups[g]!);
      // RE2 rejects duplicate group names: the keys are unique.
      if (v !== null) out.push({ key: this.names[g]!, value: { stringValue: v } });
    }
    return undefined;
  }
}
