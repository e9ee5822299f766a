/**
 * Stack-trace and exception markers: Java (`\tat …(…)`, `Caused by:`, `... N more`,
 * `Exception in thread`), Python (`Traceback (most recent call last)`, `  File "…", line N`,
 * chained-exception banners, `SomethingError: …`), Go (`panic:`, `goroutine N [running]`) and
 * Node.js frames. Each regex runs only after indexOf found its literal: most lines have none.
 */
const FRAME_RE = /^(?:\t| {2,8})at [^\n(]{1,256}\(/m;
const PANIC_RE = /^panic: /m;
const GOROUTINE_RE = /goroutine \d{1,12} \[running\]/;
const EXCEPTION_TOKEN_RE = /(?:^|[\s(["'])[\w.$]{0,200}(?:Exception|Error):(?=\s|$)/m;
const MORE_RE = /^\s{0,8}\.\.\. \d{1,9} (?:more|common frames omitted)/m;
const PY_FRAME_RE = /^ {1,8}File "[^"\n]{1,512}", line \d/m;

/** Every literal the checks below look for, in one scan: most lines contain none of them. */
const ANY_LITERAL_RE = /Traceback \(most recent call last\)|Exception in thread "|\tat | {2}at |Caused by: |exception occurred:|the direct cause of the following exception|\.\.\. |", line |panic: |goroutine |Exception:|Error:/;

export function hasStackMarker(s: string): boolean {
  if (!ANY_LITERAL_RE.test(s)) return false;
  if (s.indexOf('Traceback (most recent call last)') >= 0 || s.indexOf('Exception in thread "') >= 0) return true;
  if ((s.indexOf('\tat ') >= 0 || s.indexOf('  at ') >= 0) && FRAME_RE.test(s)) return true;
  if (s.indexOf('Caused by: ') >= 0 || s.indexOf('exception occurred:') >= 0 || s.indexOf('the direct cause of the following exception') >= 0) return true;
  if (s.indexOf('... ') >= 0 && MORE_RE.test(s)) return true;
  if (s.indexOf('", line ') >= 0 && PY_FRAME_RE.test(s)) return true;
  if (s.indexOf('panic: ') >= 0 && PANIC_RE.test(s)) return true;
  if (s.indexOf('goroutine ') >= 0 && GOROUTINE_RE.test(s)) return true;
  return (s.indexOf('Exception:') >= 0 || s.indexOf('Error:') >= 0) && EXCEPTION_TOKEN_RE.test(s);
}
