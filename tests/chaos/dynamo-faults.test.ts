/**
 * DynamoDB unavailable, then flapping, while uploads arrive: the ingest handler talks to dynalite
 * through a proxy that answers 503 when told to (as DynamoDB does when it is unavailable). Uploads
 * that fail their receives wait as dead letters; once DynamoDB is back, `hmis replay`'s call
 * (StartMessageMoveTask) brings them back: 0 lost, 0 doubled, reconciliation finds 0.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeClients, type Clients } from '../../functions/adapters/aws/clients.ts';
import { lazyUploadHandler, startLocalStack, type LocalStack } from '../../functions/adapters/local/index.ts';
import { burst, expectExactlyOneVersionEach, keyIn, size, workbooks, type Acknowledged, TIMEOUT_MS } from './harness.ts';

/** up: pass through; down: 503 to everything; flap: down every other `periodMs` */
type Mode = 'up' | 'down' | 'flap';

async function faultProxy(target: string, periodMs = 150): Promise<{ url: string; set(mode: Mode): void; refused: () => number; close(): Promise<void> }> {
  let mode: Mode = 'up';
  let refused = 0;
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const down = mode === 'down' || (mode === 'flap' && Math.floor(Date.now() / periodMs) % 2 === 0);
    if (down) {
      refused++;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ServiceUnavailable', message: 'chaos: DynamoDB unavailable' }));
      return;
    }
    const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 500, up.headers);
      up.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    set: (m) => (mode = m),
    refused: () => refused,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

let dataDir: string;
let stack: LocalStack;
let clients: Clients;
let proxy: Awaited<ReturnType<typeof faultProxy>>;

beforeAll(async () => {
  // the handler logs every failed upload (hundreds here, on purpose): kept out of the test output
  vi.spyOn(console, 'error').mockImplementation(() => {});
  dataDir = await mkdtemp(join(tmpdir(), 'hmis-chaos-dynamo-'));
  let env: Record<string, string> = {};
  stack = await startLocalStack({ dataDir, dynamodbInMemory: true, retryDelaysMs: [100, 200], concurrency: 4, onUpload: lazyUploadHandler(() => env), log: () => {} });
  proxy = await faultProxy(stack.endpoints.dynamodb);
  // the handler (this process's ingest module) reaches DynamoDB only through the proxy
  env = { ...stack.env, AWS_ENDPOINT_URL_DYNAMODB: proxy.url };
  clients = makeClients(stack.endpoints);
});
afterAll(async () => {
  clients?.destroy();
  await stack?.stop();
  await proxy?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const deadLetters = async () => (await readFile(join(dataDir, 'dead-letter.jsonl'), 'utf8').catch(() => '')).split('\n').filter(Boolean).length;

describe('DynamoDB unavailable or flapping', () => {
  const uploads = size(16, 120);

  it(`unavailable: ${uploads} uploads become dead letters; replayed once it is back: 0 lost, 0 doubled`, async () => {
    const { accepted, rejected } = await workbooks();
    proxy.set('down');
    const items = Array.from({ length: uploads }, (_, i) => ({ key: keyIn(`down-${i}.xlsx`), body: i % 4 === 1 ? rejected : accepted }));
    const { acked } = await burst(stack.endpoints, items, 8);
    expect(acked).toHaveLength(uploads);
    await stack.idle();
    expect(await deadLetters()).toBe(uploads);
    expect(proxy.refused()).toBeGreaterThan(0);

    proxy.set('up');
    await clients.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: stack.endpoints.queues.deadLetters }));
    await stack.idle();
    expect(await deadLetters()).toBe(0);
    await expectExactlyOneVersionEach(stack.endpoints, acked);
  }, TIMEOUT_MS);

  it(`flapping: ${uploads} uploads while DynamoDB comes and goes; what still failed is replayed: 0 lost, 0 doubled`, async () => {
    const { accepted, rejected } = await workbooks();
    const acked: Acknowledged[] = [];
    proxy.set('flap');
    const items = Array.from({ length: uploads }, (_, i) => ({ key: keyIn(`flap-${i}.xlsx`), body: i % 4 === 1 ? rejected : accepted }));
    acked.push(...(await burst(stack.endpoints, items, 8)).acked);
    await stack.idle();
    proxy.set('up');
    // bounded: a replayed message may meet no fault now; twice is plenty
    for (let i = 0; i < 2 && (await deadLetters()) > 0; i++) {
      await clients.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: stack.endpoints.queues.deadLetters }));
      await stack.idle();
    }
    expect(await deadLetters()).toBe(0);
    await expectExactlyOneVersionEach(stack.endpoints, acked);
  }, TIMEOUT_MS);
});
