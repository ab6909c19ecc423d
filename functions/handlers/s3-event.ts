/** The part of an S3 event notification the handlers read (the shape AWS and the local bridge deliver). */
export interface S3Event {
  Records: Array<{
    eventName: string;
    eventTime: string;
    /** who wrote the object (an IAM principal in AWS) */
    userIdentity?: { principalId?: string };
    s3: { bucket: { name: string }; object: { key: string; size: number; eTag?: string; sequencer?: string; versionId?: string } };
  }>;
}

/** S3 URL-encodes keys in events, with `+` for a space. */
export const decodeKey = (key: string): string => decodeURIComponent(key.replace(/\+/g, ' '));

/** One JSON line per event, for CloudWatch Logs Insights (and readable locally). */
export function log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === 'error') console.error(line);
  else console.log(line);
}
