/** Parsers for the text forms of config values (env vars and YAML scalars). Each throws a message without the variable name; the loader adds it. */

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "200ms", "5s", "1.5m", "1h" → milliseconds. A bare number is accepted only when `bareUnitMs` (OTEL_* timeouts are ms by spec). */
export function parseDuration(raw: unknown, bareUnitMs = false): number {
  if (typeof raw === 'number') {
    if (bareUnitMs && Number.isInteger(raw) && raw >= 0) return raw;
    throw new Error(`expected a duration with a unit such as "500ms", "5s" or "1m", got ${raw}`);
  }
  const s = String(raw).trim();
  if (bareUnitMs && /^\d+$/.test(s)) return Number(s);
  const m = DURATION_RE.exec(s);
  if (!m) throw new Error(`expected a duration with a unit such as "500ms", "5s" or "1m", got "${s}"`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

export function parseBool(raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  const s = String(raw).trim().toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  throw new Error(`expected true or false, got "${String(raw)}"`);
}

export function parseInteger(raw: unknown): number {
  if (typeof raw === 'number' && Number.isInteger(raw)) return raw;
  const s = String(raw).trim();
  if (!/^-?\d+$/.test(s)) throw new Error(`expected an integer, got "${String(raw)}"`);
  // Past 2^53 the digits are silently rounded: refuse rather than use another number.
  if (!Number.isSafeInteger(Number(s))) throw new Error(`integer out of range, got "${s}"`);
  return Number(s);
}

/** Comma-separated list (env) or YAML sequence; blanks dropped. */
export function parseList(raw: unknown): string[] {
  if (Array.isArray(raw)) return raw.map((v) => String(v).trim()).filter((v) => v !== '');
  return String(raw)
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/**
 * `key1=value1,key2=value2` as in OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS:
 * keys and values are trimmed and percent-decoded. A YAML mapping is taken as is.
 */
export function parseKeyValueMap(raw: unknown): Record<string, string> {
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) out[k] = String(v);
    return out;
  }
  const out: Record<string, string> = {};
  for (const part of String(raw).split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`expected key=value pairs separated by commas, got "${part.trim()}"`);
    const key = decodePercent(part.slice(0, eq).trim());
    out[key] = decodePercent(part.slice(eq + 1).trim());
  }
  return out;
}

function decodePercent(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new Error(`invalid percent-encoding in "${s}"`);
  }
}
