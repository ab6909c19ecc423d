/** UploadQueue over SQS (the ingest queue, or the local stack's): each upload as the S3 notification S3 would have sent. */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { s3EventOf } from '../../handlers/s3-event.ts';
import type { UploadEventRecord, UploadQueue } from '../../ports/index.ts';

export class SqsUploadQueue implements UploadQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(events: UploadEventRecord[]): Promise<void> {
    for (let i = 0; i < events.length; i += 10) {
      const batch = events.slice(i, i + 10);
      const out = await this.sqs.send(
        new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: batch.map((e, n) => ({ Id: String(n), MessageBody: JSON.stringify(s3EventOf(e)) })) }),
      );
      if (out.Failed?.length) throw new Error(`SendMessageBatch: ${out.Failed.length} of ${batch.length} not sent (${out.Failed[0]!.Code}: ${out.Failed[0]!.Message})`);
    }
  }
}
