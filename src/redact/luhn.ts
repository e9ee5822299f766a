/** The Luhn (mod 10) check digit test used by payment card numbers. */

/** Whether the decimal digits in `digits` pass the Luhn check. Non-digits make it fail. */
export function luhnValid(digits: string): boolean {
  const n = digits.length;
  if (n === 0) return false;
  let sum = 0;
  let double = false;
  for (let i = n - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Appends the Luhn check digit to a digit string (tests and fixtures build valid numbers with it). */
export function withLuhnDigit(payload: string): string {
  for (let d = 0; d <= 9; d++) {
    const candidate = payload + d;
    if (luhnValid(candidate)) return candidate;
  }
  throw new Error(`not a digit string: "${payload}"`);
}
