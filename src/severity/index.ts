/** Severity levels and the level locator: strings and plain values in, severities out. */
export {
  DEBUG, ERROR, FATAL, INFO, TRACE, WARN, SEVERITY_SHORT_NAMES, TEXT_ALIASES, NUMERIC_LEVELS,
  lookupText, severityClass, severityFromText,
} from './levels';
export { RULES, ruleText, type SeverityRule } from './rules';
export { locateSeverity, locateSeverityCode, type LocatedSeverity } from './locate';
