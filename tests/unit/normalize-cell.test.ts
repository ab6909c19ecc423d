import { describe, expect, it } from 'vitest';
import { readDate, readNumber, readText } from '../../functions/core/normalize/cell.ts';
import type { RawValue } from '../../functions/core/parse/index.ts';

const text = (value: string): RawValue => ({ kind: 'text', value });
const num = (value: number): RawValue => ({ kind: 'number', value });

// [input, numFmt, type, expected value or error code, expected info codes]
const cases: Array<[RawValue, string | null, 'integer' | 'decimal' | 'percent', number | null | string, string[]]> = [
  [num(25788), null, 'integer', 25788, []],
  [{ kind: 'empty' }, null, 'integer', null, []],
  [text('25788'), null, 'integer', 25788, ['normalized-text-number']],
  [text(' 25788\u00A0'), null, 'integer', 25788, ['normalized-whitespace', 'normalized-text-number']],
  [text('１２３'), null, 'integer', 123, ['normalized-full-width', 'normalized-text-number']],
  [text('12,345'), null, 'integer', 12345, ['normalized-thousands', 'normalized-text-number']],
  [text('1,234,567.5'), null, 'decimal', 1234567.5, ['normalized-thousands', 'normalized-text-number']],
  [text('12,34'), null, 'integer', 'value-ambiguous', []],
  [text('95.26%'), null, 'percent', 95.26, ['normalized-text-number', 'normalized-percent']],
  [num(95.26), null, 'percent', 95.26, []],
  [num(0.9526), '0.00%', 'percent', 95.26, ['normalized-percent']],
  [num(0.9526), null, 'percent', 'value-ambiguous', []],
  [text('0.9526'), null, 'percent', 'value-ambiguous', []],
  [num(120), null, 'percent', 'value-out-of-range', []],
  [text('50%'), null, 'integer', 'value-ambiguous', []],
  [num(-5), null, 'integer', 'value-negative', []],
  [text('-5'), null, 'integer', 'value-negative', []],
  [num(12.5), null, 'integer', 'value-not-integer', []],
  [num(12.5), null, 'decimal', 12.5, []],
  [text('约300'), null, 'integer', 'value-not-number', []],
  [text('0x1A'), null, 'integer', 'value-not-number', []],
  [text('1e3'), null, 'integer', 'value-not-number', []],
  [text(' '), null, 'integer', null, ['normalized-whitespace']],
  [{ kind: 'boolean', value: false }, null, 'integer', 'value-not-number', []],
  [{ kind: 'error', value: '#DIV/0!' }, null, 'integer', 'cell-error-value', []],
  [{ kind: 'formula', formula: 'SUM(D8:D9)', result: num(0) }, null, 'integer', 0, ['normalized-formula']],
  [{ kind: 'formula', formula: 'SUM(D8:D9)', result: null }, null, 'integer', 'formula-no-result', []],
  [{ kind: 'formula', formula: 'A1/0', result: { kind: 'error', value: '#DIV/0!' } }, null, 'integer', 'cell-error-value', []],
  [{ kind: 'date', value: new Date(Date.UTC(2025, 0, 5)) }, 'yyyy-mm-dd', 'integer', 'value-ambiguous', []],
  [num(2e9), null, 'integer', 'value-out-of-range', []],
];

describe('readNumber', () => {
  it.each(cases)('%j (%s, %s) → %j', (input, numFmt, type, expected, infos) => {
    const out = readNumber(input, numFmt, type);
    if (typeof expected === 'string') {
      expect(out.ok ? out.value : out.code).toBe(expected);
    } else {
      expect(out.ok ? out.value : out.code).toBe(expected);
      expect(out.notes.map((n) => n.code)).toEqual(infos);
    }
  });
});

describe('readDate', () => {
  it.each([
    [{ kind: 'date', value: new Date(Date.UTC(2025, 11, 31)) } as RawValue, false, '2025-12-31'],
    [text('2025/9/30'), false, '2025-09-30'],
    [text('2025年9月30日'), false, '2025-09-30'],
    [text('２０２５-０９-３０'), false, '2025-09-30'],
    [num(45930), false, '2025-09-30'],
    [num(44468), true, '2025-09-30'],
    [text('2025-02-30'), false, 'ledger-date-invalid'],
    [text('年底'), false, 'ledger-date-invalid'],
    [num(12.5), false, 'ledger-date-invalid'],
  ])('%j (1904: %s) → %s', (input, date1904, expected) => {
    const out = readDate(input, date1904);
    expect(out.ok ? out.value : out.code).toBe(expected);
  });
});

describe('readText', () => {
  it('trims, keeps numbers as typed and bounds the length', () => {
    expect(readText(text('  推进中 '), 10)).toMatchObject({ ok: true, value: '推进中' });
    expect(readText(num(23), 10)).toMatchObject({ ok: true, value: '23' });
    expect(readText(text('很长'.repeat(10)), 10)).toMatchObject({ ok: false, code: 'value-too-long' });
  });
});
