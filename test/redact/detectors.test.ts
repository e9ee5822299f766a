/** Each built-in detector alone: true positives, true negatives, and the boundary decisions documented in its file. */
import { createBuiltinDetectors, type BuiltinDetectorName } from '../../src/redact/detectors';
import { withLuhnDigit } from '../../src/redact/luhn';
import { Redactor, redactedPrefixes } from '../../src/redact/redactor';

function redactWith(names: readonly BuiltinDetectorName[], s: string): string {
  const mask = '[REDACTED:{detector}]';
  const r = new Redactor({
    detectors: createBuiltinDetectors(names, redactedPrefixes('mask', mask)),
    mode: 'mask',
    mask,
    hashKey: '',
    allowKeys: [],
    attributeKeys: [],
    secretKeys: false,
    resource: false,
  });
  return r.redactString(s);
}

type Row = readonly [input: string, expected: string];
const CC = '[REDACTED:credit_card]';

describe('credit_card', () => {
  const redact = (s: string): string => redactWith(['credit_card'], s);
  const luhnNs = withLuhnDigit('171456789012345678'); // 19 digits, Luhn-valid, starts with 1
  const luhnDate = withLuhnDigit('2024050112304512'); // compact yyyyMMddHHmmssSS + check digit
  const luhn20 = withLuhnDigit('4'.repeat(19));

  test.each<Row>([
    ['card 4111111111111111 charged', `card ${CC} charged`],
    ['4111 1111 1111 1111', CC],
    ['4111-1111-1111-1111', CC],
    ['amex 378282246310005.', `amex ${CC}.`],
    ['mc 5555555555554444', `mc ${CC}`],
    ['mc 2-series 2223003122003222', `mc 2-series ${CC}`],
    ['discover 6011111111111117', `discover ${CC}`],
    ['diners 30569309025904', `diners ${CC}`],
    ['13 digits 4222222222222', `13 digits ${CC}`],
    [`19 digits ${withLuhnDigit('621234567890123456')}`, `19 digits ${CC}`],
    ['{"pan":"5105105105105100"}', `{"pan":"${CC}"}`],
    ['order 12 4111 1111 1111 1111 shipped', `order 12 ${CC} shipped`],
    ['two 4111111111111111,5555555555554444', `two ${CC},${CC}`],
    ['side by side 4111 1111 1111 1111 5555 5555 5555 4444', `side by side ${CC} ${CC}`],
    ['solid then grouped 4222222222222 4111 1111 1111 1111', `solid then grouped ${CC} ${CC}`],
    ['grouped then a year 4111 1111 1111 1111 2024', `grouped then a year ${CC} 2024`],
  ])('redacts %j', (input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  test.each<readonly [string, string]>([
    ['fails Luhn', '4111111111111112'],
    ['fails Luhn, spaced', '4111 1111 1111 1112'],
    ['12 digits', '411111111113'],
    ['epoch ns passing Luhn (prefix 1)', `ts=${luhnNs}`],
    ['compact timestamp passing Luhn (prefix 20)', `at ${luhnDate}`],
    ['ISO timestamp', '2024-05-01T12:30:45.123456789Z'],
    ['date and time with dashes', '2024-05-01-12-30-45-1234'],
    ['glued to letters', 'id4111111111111111 x4111111111111111y'],
    ['decimal fraction', '0.4111111111111111 and 4111111111111111.5'],
    ['20 solid digits passing Luhn', luhn20],
    ['double separators', '4111  1111  1111  1111'],
    ['UUID', '4111e111-1111-4111-8111-111111111111'],
    ['phone number', '+44 20 7946 0958'],
  ])('leaves alone: %s', (_name, input) => {
    expect(redact(input)).toBe(input);
  });
});

describe('email', () => {
  const redact = (s: string): string => redactWith(['email'], s);
  const E = '[REDACTED:email]';
  test.each<Row>([
    ['user@example.com', E],
    ['from first.last+tag@sub.example.co.uk today', `from ${E} today`],
    ['mailto:a_b%c@x-y.io', `mailto:${E}`],
    ['contact user@example.com.', `contact ${E}.`],
    ['{"email":"U@Example.ORG"}', `{"email":"${E}"}`],
    ['<bob@mail.xn--p1ai>', `<${E}>`],
    ['a@b.io, c@d.io', `${E}, ${E}`],
    ['.leading.dot@example.com', `.${E}`],
  ])('redacts %j', (input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  test.each([
    ['user@localhost'],
    ['@example.com'],
    ['npm i @scope/pkg@1.2.3'],
    ['a@b'],
    ['user@example.c'],
    ['foo@bar.123'],
    ['x@@y.com'],
    ['trailing.@example.com is invalid'],
    ['no at sign here'],
  ])('leaves alone %j', (input) => {
    expect(redact(input)).toBe(input);
  });
});

describe('ipv4', () => {
  const redact = (s: string): string => redactWith(['ipv4'], s);
  const IP = '[REDACTED:ipv4]';
  test.each<Row>([
    ['client 10.0.0.1 connected', `client ${IP} connected`],
    ['192.168.1.254:8080', `${IP}:8080`],
    ['from 8.8.8.8.', `from ${IP}.`],
    ['x-forwarded-for: 203.0.113.7, 198.51.100.2', `x-forwarded-for: ${IP}, ${IP}`],
    ['ip=0.0.0.0', `ip=${IP}`],
    ['"ip":"255.255.255.255"', `"ip":"${IP}"`],
    // Decision: a bare valid dotted quad is an address, even one that might be a version.
    ['1.2.3.4', IP],
    ['conversion 1.2.3.4', `conversion ${IP}`],
  ])('redacts %j', (input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  test.each([
    ['v1.2.3.4'],
    ['version 1.2.3.4'],
    ['Version: 10.0.19041.1'],
    ['release 4.18.2.0'],
    ['"app_version":"1.2.3.4"'],
    ['1.2.3.4.5'],
    ['lib1.2.3.4'],
    ['256.1.1.1'],
    ['2024.01.15.3'],
    ['3.14.15'],
    ['1.2.3.4567'],
    ['took 12.5ms'],
  ])('leaves alone %j', (input) => {
    expect(redact(input)).toBe(input);
  });
});

describe('ipv6', () => {
  const redact = (s: string): string => redactWith(['ipv6'], s);
  const IP = '[REDACTED:ipv6]';
  test.each<Row>([
    ['from 2001:db8::1 ok', `from ${IP} ok`],
    ['fe80::1%eth0', `${IP}%eth0`],
    ['[2001:db8::ff00:42:8329]:443', `[${IP}]:443`],
    ['2001:0db8:85a3:0000:0000:8a2e:0370:7334', IP],
    ['::1', IP],
    ['::ffff:192.0.2.128', IP],
    ['0:0:0:0:0:ffff:192.0.2.128', IP],
    ['fe80::1: connection refused', `${IP}: connection refused`],
    ['1::', IP],
    ['http://[::1]:8080/', `http://[${IP}]:8080/`],
  ])('redacts %j', (input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  test.each([
    ['12:00:00'],
    ['2024-01-01T12:00:00.123Z'],
    ['std::vector<int>'],
    ['Abc::Def'],
    ['00:1a:2b:3c:4d:5e'],
    ['::'],
    ['1:2:3:4:5:6:7:8:9'],
    ['1:2:3:4:5:6:7'],
    [':::1'],
    ['2001:db8::1::2'],
    ['fe80::12345'],
    ['::ffff:1.2.3.4.5'],
    ['host:8080'],
  ])('leaves alone %j', (input) => {
    expect(redact(input)).toBe(input);
  });
});

describe('bearer', () => {
  const redact = (s: string): string => redactWith(['bearer'], s);
  const B = '[REDACTED:bearer]';
  test.each<Row>([
    ['Authorization: Bearer abc123.def-456', `Authorization: Bearer ${B}`],
    ['authorization=Basic dXNlcjpwYXNz', `authorization=Basic ${B}`],
    ['"Authorization": "Bearer tok3n-value"', `"Authorization": "Bearer ${B}"`],
    ['Authorization: abcdef', `Authorization: ${B}`],
    ['proxy_authorization=Digest q1w2e3r4', `proxy_authorization=Digest ${B}`],
    ['sent bearer AbCdEfGhIjKlMnOp to api', `sent bearer ${B} to api`],
    ['Bearer sk_live_51HqLyjWDarjtT1zdp7dc', `Bearer ${B}`],
    ['Bearer dGVzdDp0ZXN0MTIz==', `Bearer ${B}`],
  ])('redacts %j', (input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  test.each([['Bearer authentication failed'], ['Bearer abc'], ['the bearer of bad news'], ['no authorization header']])('leaves alone %j', (input) => {
    expect(redact(input)).toBe(input);
  });
});

describe('secret_kv', () => {
  const redact = (s: string): string => redactWith(['secret_kv'], s);
  const S = '[REDACTED:secret_kv]';
  test.each<Row>([
    ['password=hunter2', `password=${S}`],
    ['login ok db_password: s3cr3t user=bob', `login ok db_password: ${S} user=bob`],
    ['{"api_key":"abc123","user":"bob"}', `{"api_key":"${S}","user":"bob"}`],
    ['{"apiKey" : "abc 123"}', `{"apiKey" : "${S}"}`],
    ['GET /cb?access_token=abc&state=1', `GET /cb?access_token=${S}&state=1`],
    ["client_secret='x y z'", `client_secret='${S}'`],
    ['PASSWD=foo PWD = bar', `PASSWD=${S} PWD = ${S}`],
    ['X-Api-Key: abc', `X-Api-Key: ${S}`],
    ['aws_secret_access_key=wJalrXUtnFEMI/K7MDENG', `aws_secret_access_key=${S}`],
    ['{\\"password\\":\\"p@ss\\"}', `{\\"password\\":\\"${S}\\"}`],
    ['"password":"with \\"escaped\\" quote"', `"password":"${S}"`],
    ['private_key="-----BEGIN KEY-----', `private_key="${S}`],
    ['Authorization: Bearer abc', `Authorization: Bearer ${S}`],
    ['"authorization":"Basic dXNlcjpwYXNz"', `"authorization":"Basic ${S}"`],
    ['token=a,b', `token=${S},b`],
    ['secret=x; path=/', `secret=${S}; path=/`],
    ['{token: abc}', `{token: ${S}}`],
  ])('redacts %j', (input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  test.each([
    ['tokens=5'],
    ['token_count=3'],
    ['password_hint=shown'],
    ['secretary: Jane'],
    ['password reset requested'],
    ['"token": null'],
    ['password='],
    ['password=[REDACTED:secret_kv]'],
    ['{"password":"[REDACTED:email]"}'],
  ])('leaves alone %j', (input) => {
    expect(redact(input)).toBe(input);
  });
});

describe('jwt', () => {
  const redact = (s: string): string => redactWith(['jwt'], s);
  const J = '[REDACTED:jwt]';
  const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
  test.each<Row>([
    [jwt, J],
    [`token=${jwt}.`, `token=${J}.`],
    [`"id_token":"${jwt}"`, `"id_token":"${J}"`],
    ['unsigned eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0. end', `unsigned ${J} end`],
    ['jwe eyJhbGciOiJSU0EtT0FFUCJ9.a2V5.aXY.Y2lwaGVy.dGFn', `jwe ${J}`],
  ])('redacts %j', (input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  test.each([['eyJ'], ['eyJhbGciOiJIUzI1NiJ9'], [`x${jwt}`], ['eyJhbGciOiJIUzI1NiJ9.e.x'], ['eyJhb.eyJzdWIi.sig'], ['eyJhbGciOiJIUzI1NiJ9..sig']])(
    'leaves alone %j',
    (input) => {
      expect(redact(input)).toBe(input);
    },
  );
});
