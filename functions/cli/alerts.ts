/**
 * `hmis alerts [--county 150525] [--json] [--data-dir .hmis]`: the alerts the local SNS endpoint
 * received (<data-dir>/alerts.jsonl), oldest first, as an SMS and an email subscriber get them.
 * Reads the file only: no stack needed.
 */
import { readFile } from 'node:fs/promises';
import { stackFiles } from '../adapters/local/stack.ts';
import type { SnsMessage } from '../adapters/local/sns.ts';
import { parseArgs, stringFlag, UsageError } from './args.ts';
import { DEFAULT_DATA_DIR } from './local.ts';

export async function readAlerts(dataDir: string): Promise<SnsMessage[]> {
  const text = await readFile(stackFiles(dataDir).alerts, 'utf8').catch((err: { code?: string }) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  return text
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as SnsMessage];
      } catch {
        return []; // a line cut by a crash
      }
    });
}

export function renderAlert(m: SnsMessage): string {
  const topic = m.topicArn.split(':').pop();
  const attrs = Object.entries(m.attributes)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  // lines written before deliveries were recorded have only the message
  const email = m.deliveries?.email ?? m.message;
  const sms = m.deliveries?.sms ?? m.message;
  return [
    `[${m.receivedAt}] ${topic}: ${m.subject ?? ''}`,
    attrs ? `  (${attrs})` : '',
    `  短信 sms（${m.smsSegments ?? '?'} 条 segment${m.smsSegments === 1 ? '' : 's'}，${sms.length} 字 chars）：${sms.replace(/\n/g, ' ')}`,
    '  邮件 email:',
    ...email.split('\n').map((l) => `    ${l}`),
  ]
    .filter(Boolean)
    .join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { county: 'string', json: 'boolean', 'data-dir': 'string' });
  if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
  const county = stringFlag(args, 'county');
  if (county !== undefined && !/^\d{6}$/.test(county)) throw new UsageError(`--county must be a 6-digit county code, got ${county}`);
  const alerts = (await readAlerts(stringFlag(args, 'data-dir') ?? DEFAULT_DATA_DIR)).filter((m) => !county || m.attributes.county === county);
  if (args.flags.json) console.log(JSON.stringify(alerts, null, 2));
  else console.log(alerts.length ? alerts.map(renderAlert).join('\n\n') : '没有告警 no alerts');
  return 0;
}
