import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkRows, LEDGER_CHUNK_BYTES } from '../../functions/adapters/dynamo/store.ts';
import type { LedgerRow } from '../../functions/core/normalize/submission.ts';

const row = (i: number, text = `任务${i}`): LedgerRow => ({ row: 8 + i, task: String(i + 1), content: text, owner: '张某', deadline: '2025-12-31', status: '推进中', progress: 40, measures: null, remark: null }) as unknown as LedgerRow;

describe('ledger row chunks (one JSON string per DynamoDB item)', () => {
  it('a 10,000-row ledger is a handful of items, each under the limit, rows whole and in order', () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => row(i, `重点工作任务第${i + 1}项：落实中医药健康管理服务`));
    const chunks = chunkRows(rows);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.length).toBeLessThan(10);
    for (const c of chunks) expect(Buffer.byteLength(c)).toBeLessThanOrEqual(LEDGER_CHUNK_BYTES);
    expect(chunks.flatMap((c) => JSON.parse(c))).toEqual(rows);
  });

  it('any rows and any limit: concatenated chunks give the rows back; a chunk exceeds the limit only when one row does', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 300 }), { maxLength: 60 }), fc.integer({ min: 50, max: 5_000 }), (texts, limit) => {
        const rows = texts.map((t, i) => row(i, t));
        const chunks = chunkRows(rows, limit);
        expect(chunks.flatMap((c) => JSON.parse(c))).toEqual(rows);
        for (const c of chunks) {
          const parsed = JSON.parse(c) as unknown[];
          expect(parsed.length).toBeGreaterThan(0);
          if (Buffer.byteLength(c) > limit) expect(parsed).toHaveLength(1);
        }
      }),
    );
  });
});
