import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ingestUpload, parseUploadKey, versionOf, type UploadEvent } from '../../functions/core/ingest.ts';
import { CASES } from '../../fixtures/workbooks/cases.ts';
import { caseFile } from '../../fixtures/workbooks/make.ts';
import { MemoryObjects, MemoryStore } from '../fakes/memory.ts';
import { bundledSource } from '../../schemas/index.ts';

const UPLOADS = 'hmis-uploads';
const REPORTS = 'hmis-reports';
const KEY = 'uploads/150525/150525-101/T-JC/2025-03/三月报表.xlsx';
const file = (name: string) => readFile(caseFile(CASES.find((c) => c.name === name)!));

let seq = 0;
function setup() {
  const objects = new MemoryObjects();
  const store = new MemoryStore();
  const deps = { definitions: bundledSource(), objects, store, reportsBucket: REPORTS, maxUploadBytes: 10 * 1024 * 1024, now: () => new Date('2025-04-03T10:00:00+08:00') };
  const upload = async (bytes: Uint8Array, key = KEY, at = `2025-04-0${1 + (seq % 5)}T08:00:00.000Z`): Promise<UploadEvent> => {
    await objects.put(UPLOADS, key, bytes, 'application/octet-stream');
    return { bucket: UPLOADS, key, size: bytes.length, sequencer: (++seq).toString(16).padStart(16, '0'), eventTime: at, principal: 'AWS:AIDATEST' };
  };
  return { objects, store, deps, upload };
}

describe('upload keys', () => {
  it.each([
    [KEY, true],
    ['uploads/150525/150525-101/T-JC/2025-03/a b.xlsx', true],
    ['uploads/150525/150627-101/T-JC/2025-03/x.xlsx', false], // institution outside the county
    ['uploads/150525/150525-101/T-JC/2025-13/x.xlsx', false],
    ['uploads/150525/150525-101/T-JC/2025-03/x.xls', true], // in the layout: ingest answers it (file-not-xlsx)
    ['uploads/150525/150525-101/T-JC/2025-03/X.XLSX', true],
    ['uploads/150525/150525-101/T-JC/2025-03/sub/x.xlsx', false],
    ['uploads/150525/150525-101/T-JC/2025-03/../x.xlsx', false],
    ['reports/150525/150525-101/T-JC/2025-03/x.xlsx', false],
  ])('%s → %s', (key, ok) => {
    expect(parseUploadKey(key) !== null).toBe(ok);
  });
});

describe('ingestUpload (core over in-memory ports)', () => {
  it('accepts a good return, stores its values and makes it current, with a report', async () => {
    const { deps, store, objects, upload } = setup();
    const out = await ingestUpload(await upload(await file('valid-T-JC')), deps);
    expect(out).toMatchObject({ kind: 'processed', status: 'accepted', becameCurrent: true });
    const [entry] = await store.listPeriod('150525', '2025-03');
    expect(entry!.current?.submission).toMatchObject({ kind: 'indicator', institution: '150525-101', values: { JC07: 1280 } });
    expect(JSON.parse(objects.text(REPORTS, (out as { reportKey: string }).reportKey)).status).toBe('accepted');
  });

  it('a rejected upload never replaces the current accepted one, and is recorded beside it', async () => {
    const { deps, store, upload } = setup();
    await ingestUpload(await upload(await file('valid-T-JC')), deps);
    const bad = await ingestUpload(await upload(await file('rule-JC-R03'), KEY, '2025-04-04T08:00:00.000Z'), deps);
    expect(bad).toMatchObject({ status: 'rejected', becameCurrent: false });
    const [entry] = await store.listPeriod('150525', '2025-03');
    expect(entry!.current?.status).toBe('accepted');
    expect(entry!.latest).toMatchObject({ status: 'rejected', versions: 2, errors: 1 });
  });

  it('a later accepted upload replaces; an older one arriving late does not', async () => {
    const { deps, store, upload } = setup();
    const older = await upload(await file('valid-T-JC'), KEY, '2025-04-01T08:00:00.000Z');
    const newer = await upload(await file('numbers-as-text'), 'uploads/150525/150525-101/T-JC/2025-03/更正.xlsx', '2025-04-02T08:00:00.000Z');
    expect(await ingestUpload(newer, deps)).toMatchObject({ becameCurrent: true });
    expect(await ingestUpload(older, deps)).toMatchObject({ status: 'accepted', becameCurrent: false });
    const [entry] = await store.listPeriod('150525', '2025-03');
    expect(entry!.current?.objectKey).toBe(newer.key);
    expect(entry!.latest).toMatchObject({ objectKey: newer.key, versions: 2 });
  });

  it('the same event twice does the work once', async () => {
    const { deps, store, upload } = setup();
    const event = await upload(await file('valid-T-JC'));
    const a = await ingestUpload(event, deps);
    const b = await ingestUpload(event, deps);
    expect(a).toMatchObject({ versionId: versionOf(event).versionId });
    expect(b).toMatchObject({ versionId: versionOf(event).versionId, becameCurrent: true });
    expect(store.versionsById.size).toBe(1);
    expect((await store.listPeriod('150525', '2025-03'))[0]!.latest?.versions).toBe(1);
  });

  it('refuses by the size in the event before reading, and ignores keys outside the layout', async () => {
    const { deps, upload } = setup();
    const event = await upload(await file('valid-T-JC'));
    const out = await ingestUpload({ ...event, size: 50 * 1024 * 1024 }, deps);
    expect(out).toMatchObject({ status: 'rejected' });
    expect((out as { report: { issues: { code: string }[] } }).report.issues[0]!.code).toBe('file-too-large');
    expect(await ingestUpload({ ...event, key: 'uploads/elsewhere/x.xlsx' }, deps)).toMatchObject({ kind: 'ignored' });
  });

  it('an .xlsx in any letter case is processed; any other file name gets a rejected version saying how to save as .xlsx', async () => {
    const { deps, store, upload } = setup();
    const xlsx = await ingestUpload(await upload(await file('valid-T-JC'), 'uploads/150525/150525-101/T-JC/2025-03/三月.Xlsx'), deps);
    expect(xlsx).toMatchObject({ kind: 'processed', status: 'accepted', becameCurrent: true });
    const names = ['三月.xls', '三月.csv', '三月.ods', '三月.et', '三月.wps', '三月.pdf', '三月.zip', '三月'];
    for (const name of names) {
      const out = await ingestUpload(await upload(await file('valid-T-JC'), `uploads/150525/150525-101/T-TZ/2025-03/${name}`), deps);
      expect(out, name).toMatchObject({ kind: 'processed', status: 'rejected', becameCurrent: false });
      const [issue] = (out as { report: { issues: Array<{ code: string; message: string }> } }).report.issues;
      expect(issue!.code).toBe('file-not-xlsx');
      expect(issue!.message).toMatch(/Excel：文件 → 另存为.*WPS：文件 → 另存为.*LibreOffice：文件 → 另存为/);
    }
    const entry = (await store.listPeriod('150525', '2025-03')).find((e) => e.template === 'T-TZ')!;
    expect(entry).toMatchObject({ current: null, latest: { status: 'rejected', versions: names.length } });
  });

  it('the institution is the one in the key, never the one typed in the file', async () => {
    const { deps, upload } = setup();
    const out = await ingestUpload(await upload(await file('valid-T-JC'), 'uploads/150525/150525-102/T-JC/2025-03/x.xlsx'), deps);
    expect(out).toMatchObject({ status: 'rejected' });
    expect((out as { report: { issues: { code: string }[] } }).report.issues.map((i) => i.code)).toContain('institution-mismatch');
  });
});
