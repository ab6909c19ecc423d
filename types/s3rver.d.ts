// s3rver 3.7.1 ships no types: only what functions/adapters/local uses.
declare module 's3rver' {
  import type { EventEmitter } from 'node:events';
  import type { AddressInfo } from 'node:net';
  import type { IncomingMessage, Server, ServerResponse } from 'node:http';

  class S3rver extends EventEmitter {
    constructor(options?: S3rver.S3rverOptions);
    run(): Promise<AddressInfo>;
    /** creates the configured buckets (run() does it before listening) */
    configureBuckets(): Promise<void>;
    /** Koa's request listener */
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    logger?: { close(): void };
    close(): Promise<void>;
    reset(): void;
    httpServer?: Server;
    on(event: 'event', listener: (event: S3rver.S3rverEvent) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: string | symbol, listener: (...args: any[]) => void): this;
  }

  namespace S3rver {
    interface S3rverOptions {
      address?: string;
      port?: number;
      silent?: boolean;
      directory?: string;
      resetOnClose?: boolean;
      allowMismatchedSignatures?: boolean;
      vhostBuckets?: boolean;
      serviceEndpoint?: string;
      configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
    }

    /** A record of the events s3rver emits ('event'): S3-notification-shaped, key NOT URL-encoded. */
    interface S3rverEventRecord {
      eventVersion: string;
      eventSource: string;
      awsRegion: string;
      eventTime: string;
      eventName: string;
      userIdentity?: { principalId: string };
      requestParameters?: { sourceIPAddress: string };
      responseElements?: Record<string, string>;
      s3: {
        s3SchemaVersion: string;
        configurationId: string;
        bucket: { name: string; ownerIdentity?: { principalId: string }; arn: string };
        object: { key: string; size?: number; eTag?: string; sequencer: string };
      };
    }

    interface S3rverEvent {
      Records: S3rverEventRecord[];
    }
  }

  export = S3rver;
}
