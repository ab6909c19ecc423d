/**
 * SnsAlerter over the real SNS client and wire protocol, against the local SNS endpoint (no stubbed
 * client): what the endpoint received is what was published, attributes as Strings for filter policies.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSns, type LocalSns, type SnsMessage } from '../../functions/adapters/local/sns.ts';
import { SnsAlerter } from '../../functions/adapters/sns/alerter.ts';

describe('SnsAlerter', () => {
  let sns: LocalSns;
  let client: SNSClient;
  const received: SnsMessage[] = [];

  beforeAll(async () => {
    sns = await startSns({ topics: ['hmis-alerts'], onMessage: (m) => received.push(m) });
    client = new SNSClient({ endpoint: sns.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  });
  afterAll(async () => {
    client?.destroy();
    await sns?.close();
  });

  it('publishes subject, message and String attributes to its topic', async () => {
    const alerter = new SnsAlerter(client, sns.topicArn('hmis-alerts'));
    await alerter.publish({
      subject: '【未通过】八仙筒镇中心卫生院 基层医疗卫生机构月报 2025年3月：错误1项',
      message: '第一行\n第二行：D14「高血压患者规范管理人数」为 1501',
      attributes: { county: '150525', institution: '150525-101', template: 'T-JC', period: '2025-03', severity: 'error', kind: 'rejection' },
    });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      topicArn: sns.topicArn('hmis-alerts'),
      subject: '【未通过】八仙筒镇中心卫生院 基层医疗卫生机构月报 2025年3月：错误1项',
      message: '第一行\n第二行：D14「高血压患者规范管理人数」为 1501',
      attributes: { county: '150525', institution: '150525-101', template: 'T-JC', period: '2025-03', severity: 'error', kind: 'rejection' },
    });
  });

  it('a publish SNS refuses is an error for the caller (no topic)', async () => {
    const c = new SNSClient({ endpoint: sns.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
    try {
      await expect(new SnsAlerter(c, sns.topicArn('no-such-topic')).publish({ subject: 's', message: 'm', attributes: {} })).rejects.toThrow(/Topic does not exist/);
    } finally {
      c.destroy();
    }
  });
});
