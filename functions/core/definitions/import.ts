/**
 * Importing an edited definitions workbook: read it, compare it with the definitions it was exported
 * from, check what the log would then say at every period it touches, and (unless refused) append a
 * version. A refused import changes nothing.
 */
import { MONTH_ID } from '../../../schemas/model.ts';
import type { DefinitionsStore } from '../../ports/index.ts';
import { shanghaiMonth } from '../consolidate/period.ts';
import { checkDefinitions } from './check.ts';
import { diffDefinitions } from './diff.ts';
import { resolveDefinitions, type DefinitionsLog, type DefinitionsVersion } from './log.ts';
import { defIssue, type DefinitionIssue, type DefinitionsReport } from './report.ts';
import { openDefinitionsWorkbook, readDefinitions, type WorkbookBase } from './workbook.ts';

export interface ImportOptions {
  /** YYYY-MM the change is in force from */
  effective: string;
  /** who imports it */
  by: string;
  now: Date;
  dryRun?: boolean;
  /** a county's commission may change only its own county's institutions and targets (templates and types are shared) */
  scope?: string;
}

export interface ImportResult {
  report: DefinitionsReport;
  /** the version to append (null: refused or unchanged) */
  version: DefinitionsVersion | null;
}

/** Checks a workbook against a log; pure (the caller stores the version). */
export async function checkImport(bytes: Uint8Array, log: DefinitionsLog, options: ImportOptions): Promise<ImportResult> {
  const newest = log.versions[log.versions.length - 1];
  const report: DefinitionsReport = { status: 'rejected', effective: options.effective, baseVersion: null, version: null, issues: [], summary: [], dryRun: options.dryRun ?? false };
  const refuse = (issues: DefinitionIssue[]): ImportResult => ({ report: { ...report, issues: [...report.issues, ...issues] }, version: null });
  if (!MONTH_ID.test(options.effective)) return refuse([defIssue('definitions-effective', `生效期“${options.effective}”格式不对，应为“年-月”，如 2025-04`)]);
  if (!newest) return refuse([defIssue('definitions-effective', '系统中还没有任何定义，无法导入修改')]);

  const opened = await openDefinitionsWorkbook(bytes);
  if (!opened.ok) return refuse(opened.issues);
  // what the workbook was edited from: its hidden sheet says, else the definitions in force at the effective period
  const base = baseOf(opened.base, log, options.effective);
  report.baseVersion = base.version;
  const baseContent = resolveDefinitions({ versions: log.versions.filter((v) => v.version <= base.version) }, base.period).content;
  const read = readDefinitions(opened.sheets, baseContent);
  if (!read.content) return refuse(read.issues);

  const diff = diffDefinitions(baseContent, read.content, options.effective, log);
  report.summary = diff.summary;
  const outside = options.scope ? diff.changes.filter((c) => (c.entity === 'county' || c.entity === 'institution' || c.entity === 'target') && !c.key.startsWith(options.scope!)) : [];
  if (outside.length) return refuse(outside.slice(0, 20).map((c) => defIssue('definitions-scope', `修改了其他旗县的${c.entity === 'county' ? '旗县信息' : c.entity === 'institution' ? '机构' : '目标'}（${c.key.split('|')[0]}${c.entity === 'target' ? ` ${c.key.split('|').slice(1, 3).join(' ')}` : ''}）：只能修改本旗县（${options.scope}）的机构和目标。`)));
  if (!diff.changes.length) return { report: { ...report, status: 'unchanged' }, version: null };

  const version: DefinitionsVersion = {
    version: newest.version + 1,
    effective: options.effective,
    createdAt: options.now.toISOString(),
    by: options.by,
    summary: diff.summary,
    changes: diff.changes,
  };
  // the change lands on what is in force then, and on every later version's periods: each must still hold together
  const after = { versions: [...log.versions, version] };
  const periods = [...new Set([options.effective, ...log.versions.map((v) => v.effective).filter((e): e is string => e !== null && e > options.effective)])].sort();
  for (const period of periods) {
    const problems = checkDefinitions(resolveDefinitions(after, period).content);
    for (const p of problems.slice(0, 50)) report.issues.push(defIssue(p.code, `（与 ${period} 起执行的定义合并后）${p.message}`, { sheet: p.sheet, value: p.value || null }));
  }
  if (report.issues.length) return { report, version: null };
  if (options.effective < shanghaiMonth(options.now)) {
    report.issues.push(defIssue('definitions-past', `生效期 ${options.effective} 早于本月：${options.effective} 以来各期的校验、上报情况和汇总表（重新生成时）都按新定义计算。`));
  }
  return { report: { ...report, status: 'accepted', version: version.version }, version };
}

function baseOf(meta: WorkbookBase | null, log: DefinitionsLog, effective: string): WorkbookBase {
  const newest = log.versions[log.versions.length - 1]!.version;
  if (meta && meta.version <= newest) return meta;
  return { version: newest, period: effective };
}

/**
 * Checks and, unless refused, unchanged or a dry run, stores the new version. Another import stored
 * first (the head moved): the check runs again on the new log, once; its changes are per field, so
 * both edits stand unless they touch the same thing.
 */
export async function importDefinitions(store: DefinitionsStore, bytes: Uint8Array, options: ImportOptions): Promise<ImportResult> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const head = await store.head();
    if (!head) throw new Error('definitions: none stored yet');
    const log = await store.read(head);
    const result = await checkImport(bytes, log, options);
    if (!result.version || options.dryRun) return result;
    if (await store.write({ versions: [...log.versions, result.version] }, head.version)) return result;
  }
  return {
    report: { status: 'rejected', effective: options.effective, baseVersion: null, version: null, issues: [defIssue('definitions-stale', '定义刚被其他人更新，请重新导出最新的定义工作簿后再修改导入。')], summary: [], dryRun: false },
    version: null,
  };
}
