/**
 * `hmis replay [--data-dir .hmis]`: the dead letters back to the ingest queue, then waits until they are
 * processed. The same call as SQS's DLQ redrive in AWS (StartMessageMoveTask on the dead-letter queue:
 * `aws sqs start-message-move-task --source-arn <IngestDeadLetterQueueArn>`). A replayed upload that is
 * already processed changes nothing (ingest is idempotent); one that fails again is a dead letter again.
 */
import { StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import { parseArgs, stringFlag, UsageError } from './args.ts';
import { DEFAULT_DATA_DIR, openLocal } from './local.ts';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { 'data-dir': 'string' });
  if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
  const local = await openLocal(stringFlag(args, 'data-dir') ?? DEFAULT_DATA_DIR);
  try {
    const task = await local.clients.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: local.stack.endpoints.queues.deadLetters }));
    const { moved } = JSON.parse(Buffer.from(task.TaskHandle ?? '', 'base64').toString('utf8') || '{"moved":0}') as { moved: number };
    await local.stack.idle();
    console.log(`重新投递 replayed ${moved} dead letters to the ingest queue; processed (see ${local.stack.dataDir}/dead-letter.jsonl for any that failed again)`);
    return 0;
  } finally {
    await local.close();
  }
}
