/** One ingest in a fresh process, reporting its peak RSS: `node --import tsx bench/ingest-rss.ts '{"endpoints":…,"event":…}'`. */
import { makeClients } from '../functions/adapters/aws/clients.ts';
import { DynamoSubmissionStore } from '../functions/adapters/dynamo/store.ts';
import { S3ObjectStore } from '../functions/adapters/s3/objects.ts';
import { ingestUpload } from '../functions/core/ingest.ts';
import { bundledSource } from '../schemas/index.ts';

const { endpoints, event } = JSON.parse(process.argv[2]!);
const before = process.resourceUsage().maxRSS;
const clients = makeClients(endpoints);
const out = await ingestUpload(event, {
  definitions: bundledSource(),
  objects: new S3ObjectStore(clients.s3),
  store: new DynamoSubmissionStore(clients.dynamodb, endpoints.table),
  reportsBucket: endpoints.buckets.reports,
  maxUploadBytes: 10 * 1024 * 1024,
});
clients.destroy();
const peak = process.resourceUsage().maxRSS / 1024;
console.log(`peak RSS of one ingest of the 10,000-row ledger (${out.kind === 'processed' ? out.status : out.kind}): ${peak.toFixed(0)} MB (process baseline after imports ${(before / 1024).toFixed(0)} MB)`);
console.log(JSON.stringify({ peakRssMb: peak, importedRssMb: before / 1024 }));
