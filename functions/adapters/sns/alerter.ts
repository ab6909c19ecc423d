/**
 * Alerter over SNS (or the local SNS endpoint): one Publish per alert, attributes as Strings for filter
 * policies, with SNS's per-protocol message structure: SMS subscribers get the one-segment text, email
 * and every other protocol the full one.
 */
import { PublishCommand, type MessageAttributeValue, type SNSClient } from '@aws-sdk/client-sns';
import type { Alert, Alerter } from '../../ports/index.ts';
import { snsClient } from '../aws/clients.ts';

export class SnsAlerter implements Alerter {
  /** Retries are the SDK client's own (maxAttempts); none here. */
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(alert: Alert): Promise<void> {
    const attributes: Record<string, MessageAttributeValue> = {};
    // SNS refuses an empty attribute value
    for (const [name, value] of Object.entries(alert.attributes)) if (value !== '') attributes[name] = { DataType: 'String', StringValue: value };
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: alert.subject || undefined,
        MessageStructure: 'json',
        Message: JSON.stringify({ default: alert.message, email: alert.message, sms: alert.sms }),
        MessageAttributes: attributes,
      }),
    );
  }
}

/** The alerter over this process's SNS client (a Lambda's): handlers/deps.ts loads this module at the first alert. */
export const processAlerter = (topicArn: string): Alerter => new SnsAlerter(snsClient(), topicArn);
