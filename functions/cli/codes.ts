import { ISSUE_CODES, issueCodes } from '../core/validate/codes.ts';
import { parseArgs } from './args.ts';

const SEVERITY = { error: '错误（拒收）', warning: '警告（接收）', info: '提示（已规范）' } as const;
const STAGES = ['access', 'file', 'structure', 'cells', 'rules', 'history'] as const;

/** docs/ISSUE-CODES.md: the catalogue as a table, stage by stage (`hmis codes --markdown`). */
export function issueCodesMarkdown(): string {
  const lines = [
    '# Issue codes',
    '',
    'Generated from `functions/core/validate/codes.ts` by `npx hmis codes --markdown > docs/ISSUE-CODES.md`; a test keeps',
    'it current. Codes are stable: never renamed, never reused. Every error and warning message names the sheet',
    'and cell and says what to do (“请……”); the last column says it in general terms.',
  ];
  for (const stage of STAGES) {
    lines.push('', `## ${stage}`, '', '| code | severity | 含义 | 怎么办 |', '| --- | --- | --- | --- |');
    for (const code of issueCodes.filter((c) => ISSUE_CODES[c].stage === stage)) {
      const info = ISSUE_CODES[code];
      lines.push(`| \`${code}\` | ${SEVERITY[info.severity]} | ${info.title} | ${info.fix} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `hmis codes [--json | --markdown]`: every issue code, its severity, stage, meaning and what to do. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { json: 'boolean', markdown: 'boolean' });
  if (args.flags.json) console.log(JSON.stringify(ISSUE_CODES, null, 2));
  else if (args.flags.markdown) process.stdout.write(issueCodesMarkdown());
  else for (const code of issueCodes) console.log(`${code.padEnd(30)} ${SEVERITY[ISSUE_CODES[code].severity]}  ${ISSUE_CODES[code].title}：${ISSUE_CODES[code].fix}`);
  return 0;
}
