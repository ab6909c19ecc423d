/**
 * The bundled sample set end to end through the offline validator: every correct file is accepted,
 * every deliberate error rejected with the right code and cell (manifest.json says which).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../functions/cli/main.ts';
import { validateUpload } from '../../functions/core/validate/index.ts';
import { writeFixtures } from '../../fixtures/sample/write.ts';
import type { Manifest } from '../../fixtures/sample/write.ts';
import { bundledSource } from '../../schemas/index.ts';

let dir: string;
let manifest: Manifest;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hmis-samples-'));
  ({ manifest } = await writeFixtures(dir, { periods: ['2025-02', '2025-03'] }));
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('sample submissions 2025-02 and 2025-03', () => {
  it('every file gets the status and the issues its manifest entry expects', async () => {
    expect(manifest.files.length).toBeGreaterThan(90);
    expect(manifest.files.filter((f) => f.expect === 'rejected').length).toBeGreaterThanOrEqual(8);
    const mismatches: string[] = [];
    for (const f of manifest.files) {
      const { report } = await validateUpload(await readFile(join(dir, f.file)), { definitions: bundledSource(), institution: f.institution, period: f.period, template: f.template, now: new Date('2025-04-10T00:00:00+08:00') });
      const seen = [...new Set(report.issues.map((i) => `${i.cell} ${i.code}`))].sort().join(', ');
      const expected = [...new Set((f.issues ?? []).map((i) => `${i.cell} ${i.code}`))].sort().join(', ');
      if (report.status !== f.expect || seen !== expected) mismatches.push(`${f.file}: ${report.status} [${seen}] ≠ ${f.expect} [${expected}]`);
    }
    expect(mismatches).toEqual([]);
  }, 120_000);

  it('`hmis validate` exits 0 on an accepted file and 1 on a rejected one, printing the JSON report', async () => {
    const ok = manifest.files.find((f) => f.expect === 'accepted' && f.template === 'T-JC')!;
    const bad = manifest.files.find((f) => f.expect === 'rejected' && f.issues?.some((i) => i.code === 'rule-violation'))!;
    const out = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      expect(await main(['validate', join(dir, ok.file), '--institution', ok.institution, '--period', ok.period, '--json'])).toBe(0);
      expect(JSON.parse(String(out.mock.calls.at(-1)![0])).status).toBe('accepted');
      expect(await main(['validate', join(dir, bad.file), '--institution', bad.institution, '--period', bad.period, '--json'])).toBe(1);
      const report = JSON.parse(String(out.mock.calls.at(-1)![0]));
      expect(report).toMatchObject({ status: 'rejected', template: { id: bad.template, version: 1 }, institution: bad.institution, period: bad.period });
      expect(report.issues[0]).toEqual(expect.objectContaining({ severity: 'error', code: 'rule-violation', sheet: expect.any(String), cell: bad.issues![0]!.cell, row: expect.any(Number), column: 'D', element: expect.any(String), value: expect.any(Number), message: expect.stringMatching(/不能大于|应等于/) }));
      expect(await main(['validate', join(dir, bad.file)])).toBe(1);
      expect(String(out.mock.calls.at(-1)![0])).toContain('未通过');
    } finally {
      out.mockRestore();
    }
  });

  it('usage errors exit 2', async () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(await main(['validate'])).toBe(2);
      expect(await main(['validate', 'x.xlsx', '--period', '2025-3'])).toBe(2);
      expect(await main(['validate', join(dir, 'missing.xlsx')])).toBe(2);
      expect(await main(['validate', 'x.xlsx', '--bogus'])).toBe(2);
    } finally {
      err.mockRestore();
    }
  });
});
