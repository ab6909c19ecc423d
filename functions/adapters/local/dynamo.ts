/// <reference path="../../../types/dynalite.d.ts" />
/**
 * Local DynamoDB: dynalite in-process on 127.0.0.1, on disk (LevelDB under `directory`, survives
 * restarts) or in memory. Accepts any credentials. No transactions, TTL or PartiQL (see
 * ../shared/toolchain.md): the store is designed around conditional writes.
 */
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { ensureTable } from '../dynamo/table.ts';

export interface LocalDynamoOptions {
  /** LevelDB directory; in memory when absent */
  directory?: string;
  /** 0 = a free port */
  port?: number;
  /** tables created (with the shared definition) if missing */
  tables?: string[];
  region?: string;
}

export interface LocalDynamo {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startDynamo(options: LocalDynamoOptions = {}): Promise<LocalDynamo> {
  if (options.directory) await mkdir(options.directory, { recursive: true });
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.directory ? { path: options.directory } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const close = () =>
    new Promise<void>((resolve, reject) => {
      server.close((err?: Error) => (err ? reject(err) : resolve()));
      server.closeIdleConnections();
      // dynalite's close waits for the HTTP server, which waits for keep-alive sockets
      setTimeout(() => server.closeAllConnections(), 2_000).unref();
    });
  try {
    if (options.tables?.length) {
      const client = new DynamoDBClient({
        endpoint: url,
        region: options.region ?? 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      try {
        for (const table of options.tables) await ensureTable(client, table, { minDelay: 0.02, maxDelay: 0.1 });
      } finally {
        client.destroy();
      }
    }
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
  return { url, port, close };
}
