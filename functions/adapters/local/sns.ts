/**
 * Local SNS: a tiny HTTP endpoint for the SNS query protocol, enough to capture alerts.
 *
 * Wire format (checked against @aws-sdk/client-sns 3.1169 with a logging server): POST /,
 * `Content-Type: application/x-www-form-urlencoded`, SigV4-signed (not verified here), body
 *   Action=Publish&Version=2010-03-31&Message=…&TopicArn=…&Subject=…
 *   &MessageAttributes.entry.1.Name=county&MessageAttributes.entry.1.Value.DataType=String
 *   &MessageAttributes.entry.1.Value.StringValue=150525   (BinaryValue is base64)
 * and it expects XML back (`<PublishResponse><PublishResult><MessageId>`; errors as
 * `<ErrorResponse><Error><Type/><Code/><Message/>`).
 *
 * Answers Publish, CreateTopic, ListTopics, GetTopicAttributes. Publish checks what SNS checks and a
 * local sink would otherwise let through: the topic exists, Message is 1 B–256 KiB, Subject < 100
 * characters without line breaks or control characters, at most 10 attributes each with a DataType
 * and a value; with `MessageStructure=json`, Message is a JSON object of strings with a `default`
 * entry. Each accepted message is appended as one JSON line to `alertsFile` (before Publish answers)
 * and passed to `onMessage`, with what an email and an SMS subscriber would receive.
 *
 * GET /_hmis/health answers `{ service: 'hmis-local', pid, ... }` (the stack's liveness probe) and
 * GET /_hmis/idle waits for the stack's `idle()` hook (so a test in another process can wait until
 * uploads are processed).
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';

export interface SnsMessage {
  receivedAt: string;
  messageId: string;
  topicArn: string;
  subject?: string;
  /** what a subscriber of any protocol without its own entry gets: the Message, or its `default` entry */
  message: string;
  /** 'json': the Message was per protocol (SNS's MessageStructure) */
  messageStructure?: 'json';
  /** what each protocol's subscribers would receive */
  deliveries: { email: string; sms: string };
  /** how many SMS segments the SMS text takes (70 UCS-2 characters, or 160 GSM characters, per single segment) */
  smsSegments: number;
  /** attribute name → value (StringValue, or BinaryValue as base64) */
  attributes: Record<string, string>;
}

export interface LocalSnsOptions {
  port?: number;
  region?: string;
  accountId?: string;
  /** topic names that exist from the start */
  topics?: string[];
  /** JSON lines of received messages; none written when absent */
  alertsFile?: string;
  onMessage?: (message: SnsMessage) => void;
  /** extra fields of GET /_hmis/health */
  health?: () => Record<string, unknown>;
  /** GET /_hmis/idle waits for this */
  idle?: () => Promise<unknown>;
  /** the clock of receivedAt (a simulated one in the demo); default the real one */
  now?: () => Date;
}

export interface LocalSns {
  url: string;
  port: number;
  topicArn(name: string): string;
  close(): Promise<void>;
}

const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';
const MAX_MESSAGE_BYTES = 262_144;
const MAX_BODY_BYTES = 1024 * 1024;

class SnsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** MessageStructure=json: a JSON object of strings, one per protocol, `default` required (as SNS checks). */
function protocolEntries(message: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    throw new SnsError(400, 'InvalidParameter', 'Invalid parameter: Message Structure - JSON message body failed to parse');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw new SnsError(400, 'InvalidParameter', 'Invalid parameter: Message Structure - JSON message body failed to parse');
  }
  const entries = parsed as Record<string, string>;
  if (typeof entries.default !== 'string') throw new SnsError(400, 'InvalidParameter', 'Invalid parameter: Message Structure - No default entry in JSON message body');
  return entries;
}

/**
 * SMS segments of a text: GSM-7 (approximated as printable ASCII and line breaks) fits 160 characters
 * in one message, 153 per part; anything else is UCS-2: 70, then 67 per part (UTF-16 units).
 */
export function smsSegments(text: string): number {
  const gsm = /^[\x20-\x7e\n\r]*$/.test(text);
  const [single, part] = gsm ? [160, 153] : [70, 67];
  return text.length <= single ? 1 : Math.ceil(text.length / part);
}

const xml = (s: string) =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

export async function startSns(options: LocalSnsOptions = {}): Promise<LocalSns> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const arnOf = (name: string) => `arn:aws:sns:${region}:${accountId}:${name}`;
  const topics = new Set((options.topics ?? []).map(arnOf));
  if (options.alertsFile) await mkdir(dirname(options.alertsFile), { recursive: true });
  // appends in arrival order, one at a time
  let writes = Promise.resolve();

  function publish(p: URLSearchParams): string {
    const topicArn = p.get('TopicArn') ?? p.get('TargetArn');
    if (!topicArn) throw new SnsError(400, 'InvalidParameter', 'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter');
    if (p.has('PhoneNumber')) throw new SnsError(400, 'InvalidParameter', 'Invalid parameter: PhoneNumber (not supported locally)');
    if (!topics.has(topicArn)) throw new SnsError(404, 'NotFound', 'Topic does not exist');
    const raw = p.get('Message');
    if (raw === null || raw === '') throw new SnsError(400, 'InvalidParameter', 'Invalid parameter: Message too short');
    if (Buffer.byteLength(raw, 'utf8') > MAX_MESSAGE_BYTES) throw new SnsError(400, 'InvalidParameter', 'Invalid parameter: Message too long');
    const structure = p.get('MessageStructure');
    if (structure !== null && structure !== 'json') throw new SnsError(400, 'InvalidParameter', 'Invalid parameter: MessageStructure');
    const perProtocol = structure === 'json' ? protocolEntries(raw) : null;
    const message = perProtocol ? perProtocol.default! : raw;
    const deliveries = { email: perProtocol?.email ?? message, sms: perProtocol?.sms ?? message };
    const subject = p.get('Subject') ?? undefined;
    if (subject !== undefined && (subject === '' || [...subject].length >= 100 || /[\u0000-\u001f\u007f]/.test(subject))) {
      throw new SnsError(400, 'InvalidParameter', 'Invalid parameter: Subject (must be < 100 characters, no line breaks or control characters)');
    }
    const attributes: Record<string, string> = {};
    for (let n = 1; p.has(`MessageAttributes.entry.${n}.Name`); n++) {
      const prefix = `MessageAttributes.entry.${n}`;
      const name = p.get(`${prefix}.Name`)!;
      const type = p.get(`${prefix}.Value.DataType`);
      const value = p.get(`${prefix}.Value.StringValue`) ?? p.get(`${prefix}.Value.BinaryValue`);
      if (!/^(String|Number|Binary|String\.Array)(\..+)?$/.test(type ?? '')) {
        throw new SnsError(400, 'ParameterValueInvalid', `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`);
      }
      if (value === null || value === '') throw new SnsError(400, 'ParameterValueInvalid', `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${type}'.`);
      if (type!.startsWith('Number') && !Number.isFinite(Number(value))) {
        throw new SnsError(400, 'ParameterValueInvalid', `Could not cast message attribute '${name}' value to number.`);
      }
      attributes[name] = value;
    }
    if (Object.keys(attributes).length > 10) throw new SnsError(400, 'InvalidParameter', 'Invalid parameter: MessageAttributes (at most 10)');
    const record: SnsMessage = {
      receivedAt: (options.now?.() ?? new Date()).toISOString(),
      messageId: randomUUID(),
      topicArn,
      ...(subject !== undefined ? { subject } : {}),
      message,
      ...(perProtocol ? { messageStructure: 'json' as const } : {}),
      deliveries,
      smsSegments: smsSegments(deliveries.sms),
      attributes,
    };
    if (options.alertsFile) {
      const file = options.alertsFile;
      writes = writes.then(() => appendFile(file, `${JSON.stringify(record)}\n`, 'utf8')).catch((err) => console.error('[local sns] cannot write', file, err));
    }
    try {
      options.onMessage?.(record);
    } catch (err) {
      console.error('[local sns] onMessage threw:', err);
    }
    return `<PublishResult><MessageId>${record.messageId}</MessageId></PublishResult>`;
  }

  function dispatch(p: URLSearchParams): string {
    const action = p.get('Action');
    switch (action) {
      case 'Publish':
        return publish(p);
      case 'CreateTopic': {
        const name = p.get('Name') ?? '';
        if (!/^[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(name)) throw new SnsError(400, 'InvalidParameter', 'Invalid parameter: Topic Name');
        topics.add(arnOf(name));
        return `<CreateTopicResult><TopicArn>${xml(arnOf(name))}</TopicArn></CreateTopicResult>`;
      }
      case 'ListTopics':
        return `<ListTopicsResult><Topics>${[...topics].map((t) => `<member><TopicArn>${xml(t)}</TopicArn></member>`).join('')}</Topics></ListTopicsResult>`;
      case 'GetTopicAttributes': {
        const arn = p.get('TopicArn') ?? '';
        if (!topics.has(arn)) throw new SnsError(404, 'NotFound', 'Topic does not exist');
        const attrs = { TopicArn: arn, Owner: accountId, DisplayName: '', SubscriptionsConfirmed: '0', SubscriptionsPending: '0', SubscriptionsDeleted: '0' };
        return `<GetTopicAttributesResult><Attributes>${Object.entries(attrs)
          .map(([k, v]) => `<entry><key>${k}</key><value>${xml(v)}</value></entry>`)
          .join('')}</Attributes></GetTopicAttributesResult>`;
      }
      default:
        throw new SnsError(400, 'InvalidAction', `The action ${action ?? '(none)'} is not valid for this endpoint (local SNS answers Publish, CreateTopic, ListTopics, GetTopicAttributes).`);
    }
  }

  const server = http.createServer((req, res) => {
    const requestId = randomUUID();
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'x-amzn-requestid': requestId, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.method === 'GET' && req.url === '/_hmis/health') {
      send(200, 'application/json', JSON.stringify({ service: 'hmis-local', pid: process.pid, topics: [...topics], ...options.health?.() }));
      return;
    }
    if (req.method === 'GET' && req.url === '/_hmis/idle') {
      Promise.resolve(options.idle?.()).then(
        (v) => send(200, 'application/json', JSON.stringify(v ?? { idle: true })),
        (err) => send(500, 'application/json', JSON.stringify({ error: String(err) })),
      );
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', async () => {
      try {
        if (req.method !== 'POST') throw new SnsError(405, 'InvalidAction', 'local SNS: POST a query-protocol request');
        if (size > MAX_BODY_BYTES) throw new SnsError(413, 'RequestEntityTooLarge', 'request too large');
        const type = req.headers['content-type'] ?? '';
        if (!type.startsWith('application/x-www-form-urlencoded')) {
          throw new SnsError(400, 'InvalidAction', `local SNS speaks the query protocol (form-encoded), got content-type ${type || '(none)'}`);
        }
        const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const action = params.get('Action')!;
        const result = dispatch(params);
        // answered once alerts.jsonl has the line: whoever published can read it at once
        await writes;
        send(200, 'text/xml', `<${action}Response xmlns="${XMLNS}">${result}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`);
      } catch (err) {
        const e = err instanceof SnsError ? err : new SnsError(500, 'InternalError', String(err));
        if (e.status >= 500) console.error('[local sns]', err);
        send(
          e.status,
          'text/xml',
          `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${e.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${e.code}</Code><Message>${xml(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
        );
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    topicArn: arnOf,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), 2_000);
      await closed;
      clearTimeout(timer);
      await writes;
    },
  };
}
