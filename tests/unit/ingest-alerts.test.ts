/** Ingest's feedback workbook and its one alert per rejected version, over in-memory ports. */
import { readFile } from 'node:fs/promises';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { alertMarkerKeyOf, ingestUpload, mayUploadFor, ALERT_LEASE_MS, type UploadEvent } from '../../functions/core/ingest.ts';
import { CASES } from '../../fixtures/workbooks/cases.ts';
import { caseFile } from '../../fixtures/workbooks/make.ts';
import type { Alert } from '../../functions/ports/index.ts';
import { MemoryAlerter, MemoryObjects, MemoryStore } from '../fakes/memory.ts';
import { bundledSource } from '../../schemas/index.ts';

const UPLOADS = 'hmis-uploads';
const REPORTS = 'hmis-reports';
const KEY = 'uploads/150525/150525-101/T-JC/2025-03/三月报表.xlsx';
const file = (name: string) => readFile(caseFile(CASES.find((c) => c.name === name)!));

class FlakyAlerter extends MemoryAlerter {
  failures = 1;
  override async publish(alert: Alert) {
    if (this.failures-- > 0) throw new Error('SNS throttled');
    await super.publish(alert);
  }
}

function setup(alerter = new MemoryAlerter()) {
  const objects = new MemoryObjects();
  const store = new MemoryStore();
  let clock = new Date('2025-04-03T10:00:00+08:00');
  const deps = { definitions: bundledSource(), objects, store, alerter, reportsBucket: REPORTS, maxUploadBytes: 10 * 1024 * 1024, now: () => clock };
  const upload = async (bytes: Uint8Array, metadata: Record<string, string> = {}, key = KEY): Promise<UploadEvent> => {
    await objects.put(UPLOADS, key, bytes, 'application/octet-stream', metadata);
    return { bucket: UPLOADS, key, size: bytes.length, sequencer: '00000000000000000A', eventTime: '2025-04-03T01:00:00.000Z', principal: 'AWS:AIDATEST' };
  };
  const feedbackObjects = () => [...objects.objects.keys()].filter((k) => k.startsWith(`${REPORTS}/feedback/`));
  return { objects, store, alerter, deps, upload, feedbackObjects, advance: (ms: number) => (clock = new Date(clock.getTime() + ms)) };
}

describe('alerts and feedback from ingest', () => {
  it('a rejected upload delivered twice: one alert, one marked-up workbook, both named in the version', async () => {
    const { deps, alerter, store, upload, feedbackObjects, objects } = setup();
    const event = await upload(await file('rule-JC-R03'));
    const first = await ingestUpload(event, deps);
    const second = await ingestUpload(event, deps);
    expect(first).toMatchObject({ status: 'rejected', alerted: true });
    expect(second).toMatchObject({ status: 'rejected', alerted: false });
    expect(alerter.sent).toHaveLength(1);
    expect(alerter.sent[0]!.attributes).toMatchObject({ county: '150525', institution: '150525-101', severity: 'error' });
    const feedback = feedbackObjects();
    expect(feedback).toEqual([`${REPORTS}/feedback/150525/150525-101/T-JC/2025-03/${(first as { versionId: string }).versionId}.xlsx`]);
    expect(alerter.sent[0]!.message).toContain(`s3://${feedback[0]}`);
    const [version] = await store.versions({ institution: '150525-101', template: 'T-JC', period: '2025-03' });
    expect(version!.feedbackKey).toBe(feedback[0]!.slice(REPORTS.length + 1));
    // the marked-up workbook opens and starts with 校验结果
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(objects.objects.get(feedback[0]!)!) as unknown as ArrayBuffer);
    expect(wb.worksheets[0]!.name).toBe('校验结果');
  });

  it('a warning-only upload gets a marked-up workbook and no alert; a clean one neither', async () => {
    const { deps, alerter, upload, feedbackObjects } = setup();
    const warned = await ingestUpload(await upload(await file('rule-JC-R15')), deps);
    expect(warned).toMatchObject({ status: 'accepted_with_warnings', alerted: false });
    expect(feedbackObjects()).toHaveLength(1);
    const clean = await ingestUpload(await upload(await file('valid-T-JC'), {}, 'uploads/150525/150525-101/T-JC/2025-03/b.xlsx'), deps);
    expect(clean).toMatchObject({ status: 'accepted', alerted: false, feedbackKey: null });
    expect(feedbackObjects()).toHaveLength(1);
    expect(alerter.sent).toHaveLength(0);
  });

  it('a failed publish throws (Lambda retries) and the retry sends the alert: not lost, not doubled', async () => {
    const alerter = new FlakyAlerter();
    const { deps, upload } = setup(alerter);
    const event = await upload(await file('rule-JC-R03'));
    await expect(ingestUpload(event, deps)).rejects.toThrow('SNS throttled');
    expect(await ingestUpload(event, deps)).toMatchObject({ alerted: true });
    expect(await ingestUpload(event, deps)).toMatchObject({ alerted: false });
    expect(alerter.sent).toHaveLength(1);
  });

  it('an attempt that claimed the alert and vanished is taken over after the lease, not before', async () => {
    const { deps, store, alerter, upload, advance } = setup();
    const event = await upload(await file('rule-JC-R03'));
    const out = await ingestUpload({ ...event }, { ...deps, alerter: undefined });
    const version = (await store.versions({ institution: '150525-101', template: 'T-JC', period: '2025-03' }))[0]!;
    expect(out).toMatchObject({ alerted: false });
    // a crashed attempt: claimed, never settled
    expect(await store.claimAlert(version, deps.now(), ALERT_LEASE_MS)).toBe(true);
    expect(await ingestUpload(event, deps)).toMatchObject({ alerted: false });
    advance(ALERT_LEASE_MS + 1);
    expect(await ingestUpload(event, deps)).toMatchObject({ alerted: true });
    expect(alerter.sent).toHaveLength(1);
  });

  it('refuses an upload whose uploader is another institution, without opening it', async () => {
    const { deps, alerter, store, upload } = setup();
    const out = await ingestUpload(await upload(await file('valid-T-JC'), { uploader: '150525-102' }), deps);
    expect(out).toMatchObject({ status: 'rejected', becameCurrent: false });
    const issues = (out as { report: { issues: Array<{ code: string; message: string }> } }).report.issues;
    expect(issues.map((i) => i.code)).toEqual(['uploader-not-allowed']);
    expect(issues[0]!.message).toContain('150525-102');
    expect(alerter.sent).toHaveLength(1);
    expect((await store.listPeriod('150525', '2025-03'))[0]!.current).toBeNull();
  });

  it('the institution itself and its commission may upload under its prefix', async () => {
    const { deps, upload } = setup();
    expect(await ingestUpload(await upload(await file('valid-T-JC'), { uploader: '150525-101' }), deps)).toMatchObject({ status: 'accepted' });
    expect(await ingestUpload(await upload(await file('valid-T-JC'), { uploader: '150525-000' }, 'uploads/150525/150525-101/T-JC/2025-03/c.xlsx'), deps)).toMatchObject({ status: 'accepted' });
    expect(mayUploadFor('150627-000', { county: '150525', institution: '150525-101' })).toBe(false);
    expect(mayUploadFor('150525-1011', { county: '150525', institution: '150525-101' })).toBe(false);
  });

  it('refuses an upload with no uploader metadata that did not come by the IAM path (no principal), without opening it', async () => {
    const { deps, alerter, store, upload } = setup();
    const { principal: _none, ...anonymous } = await upload(await file('valid-T-JC'));
    const out = await ingestUpload(anonymous, deps);
    expect(out).toMatchObject({ status: 'rejected', becameCurrent: false });
    expect((out as { report: { issues: Array<{ code: string }> } }).report.issues.map((i) => i.code)).toEqual(['uploader-missing']);
    expect(alerter.sent).toHaveLength(1);
    expect((await store.listPeriod('150525', '2025-03'))[0]!.current).toBeNull();
  });

  it('the IAM path: no uploader metadata, a principal: accepted, and the version records the principal; metadata records the code', async () => {
    const { deps, store, upload } = setup();
    await ingestUpload(await upload(await file('valid-T-JC')), deps);
    await ingestUpload(await upload(await file('valid-T-JC'), { uploader: '150525-000' }, 'uploads/150525/150525-101/T-JC/2025-03/c.xlsx'), deps);
    const versions = await store.versions({ institution: '150525-101', template: 'T-JC', period: '2025-03' });
    expect(versions.map((v) => [v.status, v.uploader])).toEqual([
      ['accepted', 'iam:AWS:AIDATEST'],
      ['accepted', '150525-000'],
    ]);
  });
});

/** A store whose alert settle write fails `failures` times (DynamoDB flapping at the worst moment). */
class SettleFails extends MemoryStore {
  failures = Infinity;
  settles = 0;
  override async settleAlert(version: { versionId: string }, sent: boolean, now: Date) {
    this.settles++;
    if (sent && this.failures-- > 0) throw new Error('ProvisionedThroughputExceededException');
    return super.settleAlert(version, sent, now);
  }
}

describe('one alert, as far as SNS allows', () => {
  it('a settle write that fails once is retried within the invocation: one alert, settled', async () => {
    const { deps, alerter, upload } = setup();
    const store = new SettleFails();
    store.failures = 1;
    const out = await ingestUpload(await upload(await file('rule-JC-R03')), { ...deps, store, settleRetryMs: [1, 1] });
    expect(out).toMatchObject({ alerted: true });
    expect(store.settles).toBe(2);
    expect(alerter.sent).toHaveLength(1);
    expect(store.alertStates.get((out as { versionId: string }).versionId)).toHaveProperty('sentAt');
  });

  it('a settle that keeps failing: the publish is recorded in S3 and the delivery fails; the redelivery after the lease settles and sends nothing', async () => {
    const { deps, alerter, objects, upload, advance } = setup();
    const store = new SettleFails();
    const event = await upload(await file('rule-JC-R03'));
    await expect(ingestUpload(event, { ...deps, store, settleRetryMs: [1, 1] })).rejects.toThrow('ProvisionedThroughputExceededException');
    expect(alerter.sent).toHaveLength(1);
    const [version] = await store.versions({ institution: '150525-101', template: 'T-JC', period: '2025-03' });
    expect(await objects.exists(REPORTS, alertMarkerKeyOf(version!.reportKey))).toBe(true);
    // not processed yet: the attempt item (what reconciliation counts) comes last
    expect(await store.processedVersions('150525', '2025-03')).toEqual([]);

    store.failures = 0;
    // within the lease a redelivery leaves the claim alone; after it, the marker stops a second publish
    expect(await ingestUpload(event, { ...deps, store })).toMatchObject({ alerted: false, resumed: true });
    advance(ALERT_LEASE_MS + 1);
    expect(await ingestUpload(event, { ...deps, store })).toMatchObject({ alerted: false, resumed: true });
    expect(alerter.sent).toHaveLength(1);
    expect(store.alertStates.get(version!.versionId)).toHaveProperty('sentAt');
    expect(await store.processedVersions('150525', '2025-03')).toEqual([{ institution: '150525-101', template: 'T-JC', period: '2025-03', versionIds: [version!.versionId] }]);
  });

  it('a version stored and left half-done is finished from what was stored, never validated again', async () => {
    const { deps, objects, store, upload } = setup();
    const event = await upload(await file('valid-T-JC'));
    const first = await ingestUpload(event, deps);
    // the object now holds other bytes: a second validation would reject them
    await objects.put(UPLOADS, event.key, Buffer.from('not a workbook'));
    store.currents.clear();
    store.attempts.clear();
    const again = await ingestUpload(event, deps);
    expect(again).toMatchObject({ status: 'accepted', becameCurrent: true, resumed: true, versionId: (first as { versionId: string }).versionId });
    expect((await store.listPeriod('150525', '2025-03'))[0]).toMatchObject({ current: { status: 'accepted' }, latest: { versions: 1 } });
  });
});
