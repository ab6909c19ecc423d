/** Small pieces of the local CLI: `hmis serve --clock`, and how `hmis alerts` shows what each channel got. */
import { describe, expect, it, vi } from 'vitest';
import { renderAlert } from '../../functions/cli/alerts.ts';
import { main } from '../../functions/cli/main.ts';
import { runningFrom } from '../../functions/cli/serve.ts';
import type { SnsMessage } from '../../functions/adapters/local/sns.ts';

describe('hmis serve --clock', () => {
  it('runs a simulated clock from the instant given, at real speed', () => {
    let real = 1_000_000;
    const clock = runningFrom(new Date('2025-04-09T09:00:00+08:00'), () => real);
    expect(clock().toISOString()).toBe('2025-04-09T01:00:00.000Z');
    real += 90_000;
    expect(clock().toISOString()).toBe('2025-04-09T01:01:30.000Z');
  });

  it('refuses what is not an ISO time, before starting anything', async () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(await main(['serve', '--clock', 'next tuesday'])).toBe(2);
      expect(await main(['serve', '--clock', '2025-04-09'])).toBe(2);
      expect(String(err.mock.calls.at(-1)![0])).toContain('--clock must be an ISO time');
    } finally {
      err.mockRestore();
    }
  });
});

describe('hmis alerts', () => {
  const message: SnsMessage = {
    receivedAt: '2025-04-06T01:30:00.000Z',
    messageId: 'm1',
    topicArn: 'arn:aws:sns:us-east-1:000000000000:hmis-alerts',
    subject: '【未通过】八仙筒镇中心卫生院 基层医疗卫生机构月报 2025年3月：错误1项',
    message: '全文第一行\n全文第二行',
    messageStructure: 'json',
    deliveries: { email: '全文第一行\n全文第二行', sms: '【卫健统计】八仙筒镇中心卫生院 2025年3月基层月报未通过（错误1项），请登录报送平台查看' },
    smsSegments: 1,
    attributes: { county: '150525', kind: 'rejection' },
  };

  it('shows the SMS with its segments and length, then the email', () => {
    expect(renderAlert(message).split('\n')).toEqual([
      '[2025-04-06T01:30:00.000Z] hmis-alerts: 【未通过】八仙筒镇中心卫生院 基层医疗卫生机构月报 2025年3月：错误1项',
      '  (county=150525 kind=rejection)',
      `  短信 sms（1 条 segment，${message.deliveries.sms.length} 字 chars）：${message.deliveries.sms}`,
      '  邮件 email:',
      '    全文第一行',
      '    全文第二行',
    ]);
  });

  it('reads lines written before deliveries were recorded', () => {
    const { deliveries: _d, smsSegments: _s, messageStructure: _m, ...old } = message;
    expect(renderAlert(old as SnsMessage)).toContain('短信 sms（? 条 segments，11 字 chars）：全文第一行 全文第二行');
  });
});
