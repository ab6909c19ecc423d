/**
 * Fuzzing the boundary: any bytes in give a GateResult, never a throw.
 * Cases are random bytes, damaged copies of the valid baseline, and well-formed zips whose
 * XML parts are mangled (so the fuzz reaches the workbook and worksheet scanners).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unzip, zip, type Part } from '../../fixtures/hostile/make.ts';
import { gateUpload, type GateResult } from '../../functions/core/gate/index.ts';
import { msg } from '../../functions/core/gate/messages.ts';
import { ISSUE_CODES } from '../../functions/core/validate/codes.ts';

const baseline = readFileSync(new URL('../../fixtures/hostile/baseline.xlsx', import.meta.url));
const parts = unzip(baseline);

const UNEXPECTED = msg.unexpected();
const RUNS = Number(process.env.GATE_FUZZ_RUNS) || 300;
const TIMEOUT = 60_000;

function assertResult(result: GateResult): void {
  expect(typeof result.ok).toBe('boolean');
  if (result.ok) {
    expect(Array.isArray(result.sheets)).toBe(true);
    expect(typeof result.date1904).toBe('boolean');
    return;
  }
  expect(result.issues.length).toBeGreaterThan(0);
  for (const issue of result.issues) {
    // the catch-all is a safety net: fuzz input must not need it
    expect(issue.message).not.toBe(UNEXPECTED);
    expect(ISSUE_CODES[issue.code].stage).toBe('file');
    expect(issue.message.length).toBeGreaterThan(0);
  }
}

const gateNeverThrows = (bytes: Uint8Array): void => {
  let result: GateResult | undefined;
  expect(() => {
    result = gateUpload(bytes);
  }).not.toThrow();
  assertResult(result!);
};

type Mutation =
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; at: number; remove: number; insert: Uint8Array }
  | { kind: 'duplicate'; from: number; length: number; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), remove: fc.nat({ max: 64 }), insert: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), from: fc.nat(), length: fc.nat({ max: 512 }), at: fc.nat() }),
);

function mutate(source: Buffer, mutations: Mutation[]): Buffer {
  let b = Buffer.from(source);
  for (const m of mutations) {
    if (b.length === 0) break;
    switch (m.kind) {
      case 'flip':
        b[m.at % b.length] ^= m.xor;
        break;
      case 'truncate':
        b = b.subarray(0, m.at % b.length);
        break;
      case 'splice': {
        const at = m.at % b.length;
        b = Buffer.concat([b.subarray(0, at), m.insert, b.subarray(at + m.remove)]);
        break;
      }
      case 'duplicate': {
        const from = m.from % b.length;
        const at = m.at % b.length;
        b = Buffer.concat([b.subarray(0, at), b.subarray(from, from + m.length), b.subarray(at)]);
        break;
      }
    }
  }
  return b;
}

// fragments that steer mangled XML towards the scanners' edge cases
const FRAGMENTS = [
  '<row r="20001">',
  '<row>',
  '<c r="XFD1"/>',
  '<c r="A1048577">',
  '<c>',
  '<x:c r="B2"/>',
  '<mergeCell ref="A1:Z99999"/>',
  '<dataValidation sqref="A:A B:B">',
  '<conditionalFormatting sqref="1:1048576">',
  '<xm:sqref>A1:XFD1</xm:sqref>',
  '<autoFilter ref="',
  '<dimension ref="A1:ZZZ9999999"/>',
  '<definedName name="x">Sheet1!$A:$A</definedName>',
  '<sheet name="a" r:id="rId4"/>',
  '<sheet name="b" r:id="nope"/>',
  '<workbookPr date1904="1"/>',
  '<!--',
  '<![CDATA[',
  '<!DOCTYPE x>',
  '&amp;&#x41;&#99999999;&bogus;',
  '"',
  "'",
  '<',
  '>',
  '=',
];

const xmlEdit = fc.record({
  part: fc.constantFrom('xl/workbook.xml', 'xl/worksheets/sheet1.xml', 'xl/_rels/workbook.xml.rels', '[Content_Types].xml'),
  at: fc.nat(),
  remove: fc.nat({ max: 40 }),
  insert: fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 20 })),
});

describe('gate fuzz: any bytes give a result', () => {
  it(
    'random bytes',
    () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), gateNeverThrows), { numRuns: RUNS });
    },
    TIMEOUT,
  );

  it(
    'random bytes behind a zip or CFB magic',
    () => {
      const magic = fc.constantFrom([0x50, 0x4b, 0x03, 0x04], [0x50, 0x4b, 0x05, 0x06], [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
      fc.assert(
        fc.property(magic, fc.uint8Array({ maxLength: 4096 }), (head, rest) => gateNeverThrows(Buffer.concat([Buffer.from(head), rest]))),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'flipped, truncated and spliced copies of the baseline',
    () => {
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), (mutations) => gateNeverThrows(mutate(baseline, mutations))),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'well-formed zips with mangled XML parts',
    () => {
      fc.assert(
        fc.property(fc.array(xmlEdit, { minLength: 1, maxLength: 8 }), (edits) => {
          const ps: Part[] = parts.map((p) => ({ ...p }));
          for (const e of edits) {
            const p = ps.find((x) => x.name === e.part)!;
            const s = p.data.toString('utf8');
            const at = e.at % (s.length + 1);
            p.data = Buffer.from(s.slice(0, at) + e.insert + s.slice(at + e.remove), 'utf8');
          }
          gateNeverThrows(zip(ps));
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
