// Control characters from other machines must not reach a log line or a table raw: no forged log
// lines, no terminal escape codes. escapeControl/oneLine by rows, then through a real logger and
// the CLI table.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { escapeControl, findControl, oneLine } from '../../shared/text/escape.ts';
import { createLogger, type LogFormat } from '../../shared/log/logger.ts';
import { formatTable } from '../../shared/cli/table.ts';

const ESCAPES: [string, string, string][] = [
  ['newline', 'a\nb', 'a\\nb'],
  ['carriage return', 'ok\rFAILED', 'ok\\rFAILED'],
  ['tab, backspace, form feed', '\t\b\f', '\\t\\b\\f'],
  ['NUL', 'a\u0000b', 'a\\x00b'],
  ['ESC colour sequence', '\u001b[31mred\u001b[0m', '\\x1b[31mred\\x1b[0m'],
  ['OSC window title with BEL', '\u001b]0;pwned\u0007', '\\x1b]0;pwned\\x07'],
  ['DEL', 'x\u007f', 'x\\x7f'],
  ['C1 NEL and CSI', '\u0085\u009b2J', '\\x85\\x9b2J'],
  ['line and paragraph separators', 'a\u2028b\u2029c', 'a\\u2028b\\u2029c'],
  ['bidi override and isolate', '\u202egnp.exe\u2066x\u2069', '\\u202egnp.exe\\u2066x\\u2069'],
  ['printable Unicode is left alone', 'façade ✓ 日本語 👍 naïve — “quoted”', 'façade ✓ 日本語 👍 naïve — “quoted”'],
  ['backslashes and quotes are printable', 'C:\\path "x"', 'C:\\path "x"'],
  ['U+00A0 (no-break space) is printable', 'a\u00a0b', 'a\u00a0b'],
];

for (const [name, input, want] of ESCAPES) {
  test(`escapeControl: ${name}`, () => {
    assert.is(escapeControl(input), want);
  });
}

test('escapeControl: every C0, DEL and C1 character is escaped, nothing printable around them', () => {
  for (let c = 0; c <= 0x9f; c++) {
    const ch = String.fromCharCode(c);
    const control = c < 0x20 || c >= 0x7f;
    const out = escapeControl(ch);
    if (control) {
      assert.ok(out.startsWith('\\') && out.length > 1, `U+${c.toString(16)} -> ${JSON.stringify(out)}`);
      assert.not.ok(/[\u0000-\u001f\u007f-\u009f]/.test(out));
    } else {
      assert.is(out, ch);
    }
  }
});

test('findControl: first control character and its index, null when printable', () => {
  assert.equal(findControl('ab\u001bc\n'), { index: 2, char: '\u001b' });
  assert.is(findControl('façade ✓'), null);
});

const ONE_LINE: [string, number, string][] = [
  ['short', 10, 'short'],
  ['a\nb', 10, 'a\\nb'],
  ['abcdefghij', 10, 'abcdefghij'],
  ['abcdefghijk', 10, 'abcdefghi…'],
  // The escape of ESC (4 characters) does not fit before the ellipsis: it is dropped whole.
  ['ab\u001bcd', 5, 'ab…'],
  ['ab\u001bcd', 7, 'ab\\x1b…'],
  // A surrogate pair is never split.
  ['👍👍👍', 4, '👍…'],
  ['abc', 1, '…'],
  ['abc', 0, ''],
];

for (const [input, max, want] of ONE_LINE) {
  test(`oneLine(${JSON.stringify(input)}, ${max})`, () => {
    const out = oneLine(input, max);
    assert.is(out, want);
    assert.ok(out.length <= max);
  });
}

/** A real logger whose lines a test awaits (the winston stream writes after log() returns). */
function lineLogger(format: LogFormat = 'text') {
  const lines: string[] = [];
  let waiting: { n: number; resolve: () => void } | null = null;
  const log = createLogger({
    format,
    component: 'coordinator',
    sink: (l) => {
      lines.push(l);
      if (waiting && lines.length >= waiting.n) waiting.resolve();
    },
  });
  const until = (n: number): Promise<string[]> =>
    new Promise((resolve, reject) => {
      if (lines.length >= n) return resolve(lines);
      const timer = setTimeout(() => reject(new Error(`only ${lines.length} of ${n} log lines arrived: ${JSON.stringify(lines)}`)), 5000);
      waiting = { n, resolve: () => { clearTimeout(timer); resolve(lines); } };
    });
  return { log, lines, until };
}

const FORGED = 'EACCES\n2026-01-01T00:00:00.000Z info  coordinator: node node-1 removed by admin';

test('logger (text): a forged log line in an apply error stays on its own line, escaped', async () => {
  const { log, until } = lineLogger();
  log.warn(`node node-2 failed to apply revision 3: ${FORGED}`);
  log.info('next');
  const lines = await until(2);
  assert.is(lines.length, 2);
  assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT[\d:.]+Z warn  coordinator: node node-2 failed to apply revision 3: EACCES\\n2026-01-01T00:00:00\.000Z info  coordinator: node node-1 removed by admin$/);
  assert.not.ok(lines[0]!.includes('\n'));
  assert.match(lines[1]!, / info  coordinator: next$/);
});

test('logger (text): escape codes in the message, extra fields and component are made visible', async () => {
  const lines: string[] = [];
  let done!: () => void;
  const arrived = new Promise<void>((r) => (done = r));
  const log = createLogger({ component: 'agent node-2\u001b[2J', sink: (l) => { lines.push(l); done(); } });
  log.info('colour \u001b[31mred\u001b[0m\u009b', { detail: 'a\nb\u001b[8m', plain: 'x\u001b[1m', count: 3 });
  await arrived;
  assert.is(
    lines[0]!.replace(/^\S+ /, ''),
    'info  agent node-2\\x1b[2J: colour \\x1b[31mred\\x1b[0m\\x9b detail="a\\nb\\u001b[8m" plain=x\\x1b[1m count=3',
  );
  assert.not.ok(/[\u0000-\u001f\u007f-\u009f]/.test(lines[0]!));
});

test('logger (text): redaction still runs first, across the newlines it then escapes', async () => {
  const { log, until } = lineLogger();
  const key = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----';
  log.error(`join with abcdef.0123456789abcdef failed\nkey: ${key}`);
  const [line] = await until(1);
  assert.ok(line!.endsWith('error coordinator: join with abcdef.<redacted> failed\\nkey: <redacted private key>'), line);
  assert.not.ok(line!.includes('0123456789abcdef'));
});

test('logger (json): one line per entry, the message intact inside the JSON', async () => {
  const { log, until } = lineLogger('json');
  log.warn(`apply failed: ${FORGED}`);
  const [line] = await until(1);
  assert.not.ok(line!.includes('\n'));
  const entry = JSON.parse(line!) as Record<string, unknown>;
  assert.is(entry.message, `apply failed: ${FORGED}`);
  assert.is(entry.component, 'coordinator');
});

test('formatTable: an ESC sequence and a newline in a status cell are escaped, columns still line up', () => {
  const out = formatTable(
    ['NAME', 'STATE', 'LAST SEEN'],
    [
      ['node-1', 'applied rev 3', '2s ago'],
      ['node-2', 'failed: \u001b[31mEACCES\u001b[0m\nnode-9  applied rev 9', '5s ago'],
    ],
  );
  // The escaped cell is 52 characters wide; the other rows are padded to it.
  const cell = 'failed: \\x1b[31mEACCES\\x1b[0m\\nnode-9  applied rev 9';
  assert.is(cell.length, 52);
  assert.is(
    out,
    [
      `NAME    ${'STATE'.padEnd(52)}  LAST SEEN`,
      `node-1  ${'applied rev 3'.padEnd(52)}  2s ago`,
      `node-2  ${cell}  5s ago`,
    ].join('\n'),
  );
  assert.not.ok(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(out));
});

test('formatTable: headers are escaped and a missing cell is empty', () => {
  assert.is(formatTable(['A\tB', 'C'], [['x']]), 'A\\tB  C\nx');
});

test.run();
