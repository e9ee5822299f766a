/** Severity levels and the level locator: strings and plain values in, severities out. */
export * from './levels';
export { RULES, ruleText, type SeverityRule } from './rules';
export { locateSeverity, locateSeverityCode, type LocatedSeverity } from './locate';
