/**
 * The `hmis` command: one dispatcher over the same core and adapters the Lambda handlers use.
 * Each command lives in its own module and exports `run(args): Promise<exit code>`.
 */
import { UsageError } from './args.ts';
import { PeriodError } from '../core/consolidate/period.ts';
import { ReviewError } from '../core/review.ts';

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> }> = {
  registry: { summary: 'print the registry of institutions (--county C) [--json]', load: () => import('./registry.ts') },
  definitions: { summary: 'the commission\'s definitions: export --out F.xlsx | import F.xlsx --effective YYYY-MM [--dry-run] | history | show --period P', load: () => import('./definitions.ts') },
  templates: { summary: 'print every template definition [--json]', load: () => import('./templates.ts') },
  template: { summary: 'write a blank template: --template T-JC --institution 150525-101 --period 2025-03 --out FILE', load: () => import('./template.ts') },
  validate: { summary: 'validate a workbook: FILE [--institution C] [--period YYYY-MM] [--json]', load: () => import('./validate.ts') },
  codes: { summary: 'the issue codes: severity, meaning, what to do [--json | --markdown]', load: () => import('./codes.ts') },
  upload: { summary: 'upload a workbook to the local stack: FILE --institution C --template T-JC --period YYYY-MM', load: () => import('./upload.ts') },
  status: { summary: 'who owes what and what arrived: --county 150525 --period 2025-03 [--json]', load: () => import('./status.ts') },
  consolidate: { summary: 'write the consolidated workbook: --county 150525 --period 2025-03|2025-Q1|2025 [--out FILE] [--generated-at ISO-TIME] (or --level city --city 1505)', load: () => import('./consolidate.ts') },
  trend: { summary: 'a series from the store, per month (or quarter, year for T-QY, T-ND): --county C [--institution I] --element JC-I03 [--months 24] [--to YYYY-MM] [--json]', load: () => import('./trend.ts') },
  report: { summary: 'the work summary\'s data draft (工作总结数据稿, Word): --county C --period 2025-03|2025-Q1|2025 --out F.docx', load: () => import('./report.ts') },
  lake: { summary: 'rewrite a county\'s year of the lake (lake/year=…/county=…/values.parquet): --county C [--year YYYY]', load: () => import('./lake.ts') },
  query: { summary: 'SQL over every value (DuckDB, the view `values`): "select … from values" [--json]', load: () => import('./query.ts') },
  export: { summary: 'a county\'s values: --county C --from P --to P --format csv|parquet|xlsx --out F', load: () => import('./export.ts') },
  reconcile: { summary: 'every upload under uploads/ against the table; lost ones ingested now: [--county C] [--period YYYY-MM] [--json]', load: () => import('./reconcile.ts') },
  replay: { summary: 'the dead letters back to the ingest queue (SQS redrive), processed', load: () => import('./replay.ts') },
  alerts: { summary: 'the alerts the local SNS received: [--county 150525] [--json]', load: () => import('./alerts.ts') },
  demo: { summary: 'the whole pipeline on the bundled sample data (npm start) [--data-dir .hmis/demo]', load: () => import('./demo.ts') },
  fixtures: { summary: 'write the sample submissions and manifest.json: --out DIR', load: () => import('./fixtures.ts') },
  users: { summary: 'the people of the user pool: add --name N --phone M --role 填报员|审核员|管理员|查看 (--institution I | --county C | --city C) | list [--county C] | disable|enable|reset --phone M', load: () => import('./users.ts') },
  approve: { summary: 'review (审核) a return: --institution I --template T --period P --by USER [--return REASON]', load: () => import('./approve.ts') },
  close: { summary: 'close a month (关账): --county C --period P --by USER', load: () => import('./close.ts') },
  audit: { summary: 'the audit trail (操作记录): --county C [--from P] [--to P] [--json]', load: () => import('./audit.ts') },
  serve: { summary: 'local S3/DynamoDB/SNS/SQS + upload trigger + portal, no AWS account: [--data-dir .hmis] [--s3-port 4569] [--dynamodb-port 4567] [--sns-port 4575] [--sqs-port 4576] [--portal-port 8080] [--clock ISO]', load: () => import('./serve.ts') },
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    const lines = Object.entries(COMMANDS).map(([n, c]) => `  hmis ${n.padEnd(10)} ${c.summary}`);
    (name && name !== '--help' ? console.error : console.log)(`usage: hmis <command> [options]\n${lines.join('\n')}`);
    return name && name !== '--help' ? 2 : 0;
  }
  try {
    return await (await command.load()).run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`hmis ${name}: ${err.message}`);
      return 2;
    }
    // the core refused (a period out of range, a review not possible): said, exit 1
    if (err instanceof PeriodError || err instanceof ReviewError) {
      console.error(`hmis ${name}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
