/**
 * SnsAlerter over the real SNS client and wire protocol, against the local SNS endpoint (no stubbed
 * client): what the endpoint received is what was published, per protocol (MessageStructure json),
 * attributes as Strings for filter policies.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smsSegments, startSns, type LocalSns, type SnsMessage } from '../../functions/adapters/local/sns.ts';
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

  it('publishes subject, the text per protocol and String attributes to its topic', async () => {
    const alerter = new SnsAlerter(client, sns.topicArn('hmis-alerts'));
    const sms = '【卫健统计】八仙筒镇中心卫生院 2025年3月基层月报未通过（错误1项），请登录报送平台查看';
    await alerter.publish({
      subject: '【未通过】八仙筒镇中心卫生院 基层医疗卫生机构月报 2025年3月：错误1项',
      message: '第一行\n第二行：D14「高血压患者规范管理人数」为 1501 "引号" \\ 反斜杠',
      sms,
      attributes: { county: '150525', institution: '150525-101', template: 'T-JC', period: '2025-03', severity: 'error', kind: 'rejection' },
    });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      topicArn: sns.topicArn('hmis-alerts'),
      subject: '【未通过】八仙筒镇中心卫生院 基层医疗卫生机构月报 2025年3月：错误1项',
      messageStructure: 'json',
      message: '第一行\n第二行：D14「高血压患者规范管理人数」为 1501 "引号" \\ 反斜杠',
      deliveries: { email: '第一行\n第二行：D14「高血压患者规范管理人数」为 1501 "引号" \\ 反斜杠', sms },
      smsSegments: 1,
      attributes: { county: '150525', institution: '150525-101', template: 'T-JC', period: '2025-03', severity: 'error', kind: 'rejection' },
    });
  });

  it('refuses a per-protocol message SNS would refuse; a plain one goes to every protocol as it is', async () => {
    const publish = (Message: string, MessageStructure?: string) => client.send(new PublishCommand({ TopicArn: sns.topicArn('hmis-alerts'), Message, ...(MessageStructure ? { MessageStructure } : {}) }));
    await expect(publish('not json', 'json')).rejects.toThrow(/failed to parse/);
    await expect(publish('{"sms":"x","email":"y"}', 'json')).rejects.toThrow(/No default entry/);
    await expect(publish('{"default":"x","sms":1}', 'json')).rejects.toThrow(/failed to parse/);
    await expect(publish('{"default":"x"}', 'xml')).rejects.toThrow(/MessageStructure/);
    received.length = 0;
    await publish('{"default":"全文","sms":"短信"}', 'json');
    await publish('一条很长的短信'.repeat(20));
    expect(received.map((m) => [m.message, m.deliveries, m.smsSegments])).toEqual([
      ['全文', { email: '全文', sms: '短信' }, 1],
      ['一条很长的短信'.repeat(20), { email: '一条很长的短信'.repeat(20), sms: '一条很长的短信'.repeat(20) }, 3],
    ]);
  });

  it('counts SMS segments as phones do: 70 UCS-2 or 160 GSM characters in one', () => {
    expect([smsSegments('中'.repeat(70)), smsSegments('中'.repeat(71)), smsSegments('中'.repeat(134)), smsSegments('中'.repeat(135))]).toEqual([1, 2, 2, 3]);
    expect([smsSegments('a'.repeat(160)), smsSegments('a'.repeat(161)), smsSegments(`${'a'.repeat(159)}中`)]).toEqual([1, 2, 3]);
  });

  it('a publish SNS refuses is an error for the caller (no topic)', async () => {
    const c = new SNSClient({ endpoint: sns.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
    try {
      await expect(new SnsAlerter(c, sns.topicArn('no-such-topic')).publish({ subject: 's', message: 'm', sms: 'm', attributes: {} })).rejects.toThrow(/Topic does not exist/);
    } finally {
      c.destroy();
    }
  });
});
