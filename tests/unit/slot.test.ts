import { describe, expect, it } from 'vitest';
import { makeEntry } from '../../functions/core/consolidate/build.ts';
import { openRejectionOf, timelinessOf } from '../../functions/core/consolidate/slot.ts';

const deadline = new Date('2025-04-05T15:59:59.999Z'); // 2025-04-05 23:59:59.999 Beijing
const before = new Date('2025-04-03T00:00:00Z');
const after = new Date('2025-04-10T00:00:00Z');
const slot = (spec: Partial<Parameters<typeof makeEntry>[0]>) => makeEntry({ institution: '150525-101', template: 'T-JC', period: '2025-03', ...spec });

describe('one institution × template × month', () => {
  it('timeliness: by the accepted upload’s time; without one, by the clock and whether anything came', () => {
    expect(timelinessOf(slot({ values: {}, uploadedAt: deadline.toISOString() }), deadline, after)).toBe('按时');
    expect(timelinessOf(slot({ values: {}, uploadedAt: '2025-04-05T16:00:00.000Z' }), deadline, after)).toBe('逾期');
    expect(timelinessOf(null, deadline, before)).toBe('未到期');
    expect(timelinessOf(null, deadline, deadline)).toBe('未到期');
    expect(timelinessOf(null, deadline, after)).toBe('逾期未报');
    expect(timelinessOf(slot({ rejected: [] }), deadline, after)).toBe('逾期未改');
  });

  it('an open rejection: the latest upload, rejected, and newer than what was accepted', () => {
    expect(openRejectionOf(slot({ rejected: [] }))?.status).toBe('rejected');
    expect(openRejectionOf(slot({ values: {}, rejected: [], uploadedAt: '2025-04-02T02:00:00Z', rejectedAt: '2025-04-03T02:00:00Z' }))?.status).toBe('rejected');
    expect(openRejectionOf(slot({ values: {} }))).toBeNull();
    expect(openRejectionOf(undefined)).toBeNull();
  });
});
