/**
 * People, review (审核) and the audit trail end to end: a real headless Chromium against `hmis serve`'s
 * own serve() (every port free, a fresh data dir, the simulated morning of Monday 2025-04-07), with
 * two institutions (八仙筒 150525-101, 青龙山 150525-102), a reviewer and an administrator of 奈曼旗:
 *
 *   the administrator created with the user pool signs in with the temporary password and sets its
 *   own → creates the two 填报员 and the 审核员 on 用户管理 → each signs in the first time and sets a
 *   password → 101 uploads a return with a warning and a 说明 → the reviewer marks the warning
 *   已核实 and returns it with a reason → 101 sees 退回 and the reason (and gets the alert), re-uploads
 *   → the reviewer approves both institutions → the administrator closes March (关账) → 101 uploads
 *   again: a 补报, held until the reviewer approves it → 操作记录 shows all of it, and exports it →
 *   102 is disabled and is refused within a minute → logout ends 101's session.
 *
 * Screenshots (1366×768) in test-output/screenshots/1x-…png.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ExcelJS from 'exceljs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { tsImport } from 'tsx/esm/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../../functions/cli/serve.ts';
import { readAlerts } from '../../functions/cli/alerts.ts';
import { BASE_VALUES } from '../../fixtures/workbooks/cases.ts';
import { writeWorkbookBuffer } from '../../functions/core/render/deterministic.ts';
import { buildTemplateWorkbook, elementCells } from '../../functions/core/render/template.ts';
import { bundledDefinitions, type IndicatorTemplate } from '../../schemas/index.ts';

type ServeModule = typeof import('../../functions/cli/serve.ts');

const CHROMIUM = process.env.HMIS_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = resolve('test-output/screenshots');
const FIXTURES = resolve('fixtures/workbooks');
const PERIOD = '2025-03';
const A = '150525-101';
const B = '150525-102';
const TODAY = new Date('2025-04-07T10:00:00+08:00');
const VIEWPORT = { width: 1366, height: 768 };
/** everyone's own password after the first sign-in */
const OWN = 'Own-pass-2025';
const PEOPLE = {
  a: { name: '张填报', phone: '13800000101', unit: A, role: 'reporter' },
  b: { name: '李填报', phone: '13800000102', unit: B, role: 'reporter' },
  reviewer: { name: '王审核', phone: '13800000001', unit: '150525-000', role: 'reviewer' },
} as const;

/** a machine shared with other work answers slowly at times: polls wait up to 15 s */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });

if (!existsSync(CHROMIUM)) throw new Error(`[e2e] ${CHROMIUM} not found: apt-get install chromium (.ci/run does), or set HMIS_CHROMIUM`);

/** 青龙山's March T-JC, filled with the base values */
async function returnOfB(): Promise<Buffer> {
  const defs = bundledDefinitions();
  const def = defs.template('T-JC') as IndicatorTemplate;
  const found = defs.institution(B)!;
  const wb = buildTemplateWorkbook(def, found.county, found.institution, PERIOD);
  const cells = elementCells(def);
  for (const [code, v] of Object.entries(BASE_VALUES['T-JC']!)) if (cells.has(code)) wb.getWorksheet(def.sheetName)!.getCell(cells.get(code)!).value = v;
  return writeWorkbookBuffer(wb);
}

describe('people, review and the audit trail in a browser', { timeout: 90_000 }, () => {
  let dataDir: string;
  let serving: Serving;
  let browser: Browser;
  let base: string;
  const out: string[] = [];
  const temporary = new Map<string, string>();
  const pages: Record<'admin' | 'a' | 'b' | 'reviewer', { context: BrowserContext; page: Page }> = {} as never;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'hmis-e2e-review-'));
    await mkdir(SHOTS, { recursive: true });
    const { serve, runningFrom } = (await tsImport('../../functions/cli/serve.ts', import.meta.url)) as ServeModule;
    serving = await serve({ dataDir: join(dataDir, 'stack'), s3Port: 0, dynamodbPort: 0, snsPort: 0, portalPort: 0, clock: runningFrom(TODAY), out: (line) => out.push(line) });
    base = serving.portal!.url;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    for (const who of ['admin', 'a', 'b', 'reviewer'] as const) {
      const context = await browser.newContext({ viewport: VIEWPORT, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true });
      const page = await context.newPage();
      page.on('pageerror', (err) => out.push(`[page error] ${who}: ${err.message}`));
      page.on('dialog', (d) => void d.accept());
      pages[who] = { context, page };
    }
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    serving?.scheduler.stop();
    await serving?.portal?.close();
    await serving?.stack.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    expect(out.filter((l) => l.startsWith('[page error]'))).toEqual([]);
  });

  /** the first sign-in: the temporary password, then one's own */
  async function firstSignIn(page: Page, username: string, temp: string) {
    await page.goto(base);
    await page.fill('#login-user', username);
    await page.fill('#login-password', temp);
    await page.click('#login-submit');
    await page.waitForSelector('#newpw-form:not([hidden])');
    await page.fill('#newpw', 'weak');
    await page.fill('#newpw2', 'weak');
    await page.click('#newpw-submit');
    await poll(() => page.locator('#newpw-error').textContent()).toContain('新密码不符合要求');
    await page.fill('#newpw', OWN);
    await page.fill('#newpw2', OWN);
    await page.click('#newpw-submit');
    await page.waitForSelector('#app-view:not([hidden])');
  }

  const cell = (page: Page, institution: string) => page.locator(`#grid tr[data-institution="${institution}"] td[data-template="T-JC"]`);
  const ownRow = (page: Page) => page.locator('#own-table tr[data-template="T-JC"]');

  /** uploads on the own view and waits for this upload's result (the result card is cleared first) */
  async function upload(page: Page, file: string | { name: string; buffer: Buffer }) {
    await page.evaluate(() => document.getElementById('result-body')!.replaceChildren());
    await page.setInputFiles('#own-table input[type=file][data-template="T-JC"]', typeof file === 'string' ? join(FIXTURES, file) : { ...file, mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
    await page.locator('#result-status').waitFor({ timeout: 30_000 });
  }

  async function openReview(institution: string) {
    const { page } = pages.reviewer;
    await page.click('#refresh');
    await cell(page, institution).locator('.rv').waitFor();
    // the card of the previous review goes first: wait for this one
    await page.evaluate(() => document.getElementById('review-body')!.replaceChildren());
    await cell(page, institution).click();
    await page.waitForSelector('#review-card:not([hidden]) #review-state');
  }

  it('users created; each signs in the first time with a password change', async () => {
    const admin = serving.portal!.users.find((u) => u.unit === '150525-000')!;
    const { page } = pages.admin;
    await firstSignIn(page, admin.username, admin.temporaryPassword);
    expect(await page.locator('#who-role').textContent()).toBe('审核员、管理员');
    await page.click('#tab-users');
    await page.locator('#users-table tbody tr').first().waitFor();
    for (const [key, p] of Object.entries(PEOPLE)) {
      await page.fill('#user-name', p.name);
      await page.fill('#user-phone', p.phone);
      await page.selectOption('#user-unit', p.unit);
      for (const role of ['reporter', 'reviewer', 'admin']) {
        const box = page.locator(`#user-roles input[value="${role}"]`);
        if ((await box.isChecked()) !== (role === p.role)) await box.click();
      }
      await page.click('#user-add');
      await poll(() => page.locator('#user-result').textContent()).toContain(`已创建 ${p.name}（${p.phone}）`);
      temporary.set(key, (await page.locator('#user-result').getAttribute('data-password'))!);
      await poll(() => page.locator(`#users-table tr[data-user="${p.phone}"]`).textContent()).toContain('待首次登录');
    }
    await page.screenshot({ path: join(SHOTS, '11-users.png'), fullPage: true });
    for (const key of ['a', 'b', 'reviewer'] as const) await firstSignIn(pages[key].page, PEOPLE[key].phone, temporary.get(key)!);
    expect(await pages.a.page.locator('#who-name').textContent()).toBe('张填报（八仙筒镇中心卫生院）');
    expect(await pages.reviewer.page.locator('#tab-users').isHidden()).toBe(true);
    await page.click('#tab-users');
    await poll(() => page.locator(`#users-table tr[data-user="${PEOPLE.a.phone}"]`).textContent()).toContain('正常');
  });

  it('upload with a warning and a 说明; review: 已核实, a return with a reason, a re-upload, approval', async () => {
    const a = pages.a.page;
    await ownRow(a).waitFor();
    await a.fill('#own-table input.note[data-template="T-JC"]', '备注较长：本月集中开展义诊，情况说明写在备注中');
    await upload(a, 'remark-long.xlsx');
    await poll(() => a.locator('#result-status').getAttribute('data-status')).toBe('accepted_with_warnings');
    await poll(() => ownRow(a).locator('[data-review]').first().getAttribute('data-review')).toBe('pending');
    expect(await ownRow(a).textContent()).toContain('说明：备注较长');
    await upload(pages.b.page, { name: '青龙山三月.xlsx', buffer: await returnOfB() });
    await poll(() => pages.b.page.locator('#result-status').getAttribute('data-status')).toBe('accepted');

    const r = pages.reviewer.page;
    await openReview(A);
    expect(await r.locator('#review-state').getAttribute('data-state')).toBe('pending');
    expect(await r.locator('#review-explanation').textContent()).toContain('本月集中开展义诊');
    const warning = r.locator('#review-warnings tbody tr').first();
    expect(await warning.textContent()).toContain('E8');
    await warning.locator('input').fill('电话核实：备注属实');
    await warning.locator('[data-action="check"]').click();
    await poll(() => r.locator('#review-warnings tbody tr').first().textContent()).toContain('已核实 电话核实：备注属实（王审核）');
    await r.click('#review-return');
    await poll(() => r.locator('#toast').textContent()).toContain('退回时请填写原因');
    await r.fill('#review-reason', '备注过长，请精简后重新上报');
    await r.click('#review-return');
    await poll(() => r.locator('#review-state').getAttribute('data-state')).toBe('returned');
    await r.screenshot({ path: join(SHOTS, '12-review-returned.png'), fullPage: true });

    await a.click('#refresh');
    await poll(() => ownRow(a).locator('[data-review]').first().getAttribute('data-review')).toBe('returned');
    expect(await ownRow(a).textContent()).toContain('退回原因：备注过长，请精简后重新上报（王审核）');
    const alert = (await readAlerts(serving.stack.dataDir)).find((x) => x.attributes.kind === 'returned' && x.attributes.institution === A)!;
    expect(alert.deliveries.sms).toBe('【卫健统计】八仙筒镇中心卫生院 2025年3月基层月报被退回，请登录报送平台查看');
    await a.screenshot({ path: join(SHOTS, '13-institution-returned.png'), fullPage: true });

    await upload(a, 'valid-T-JC.xlsx');
    await poll(() => a.locator('#result-status').getAttribute('data-status')).toBe('accepted');
    await poll(() => ownRow(a).locator('[data-review]').first().getAttribute('data-review')).toBe('pending');

    for (const institution of [A, B]) {
      await openReview(institution);
      await r.click('#review-approve');
      await poll(() => r.locator('#review-state').getAttribute('data-state')).toBe('approved');
    }
    await poll(() => cell(r, A).getAttribute('data-review')).toBe('approved');
    await poll(() => cell(r, B).getAttribute('data-review')).toBe('approved');
  });

  it('the month closed (关账); a 补报 waits for review, and replaces the return once approved', async () => {
    const admin = pages.admin.page;
    await admin.click('#tab-county');
    await admin.locator('#close-month:not([hidden])').waitFor();
    await admin.click('#close-month');
    await poll(() => admin.locator('#close-msg').textContent()).toContain('已关账（奈曼旗管理员');
    expect(await admin.locator('#close-month').isDisabled()).toBe(true);

    const a = pages.a.page;
    await a.click('#refresh');
    await poll(() => ownRow(a).textContent()).toContain('本期已关账');
    await upload(a, 'remark-long.xlsx');
    await poll(() => ownRow(a).locator('[data-review]').nth(1).textContent()).toBe('补报待审核');
    expect(await ownRow(a).locator('[data-review]').first().getAttribute('data-review')).toBe('approved');
    await a.screenshot({ path: join(SHOTS, '14-correction.png'), fullPage: true });

    const r = pages.reviewer.page;
    await openReview(A);
    expect(await cell(r, A).getAttribute('data-review')).toBe('correction');
    expect(await r.locator('#review-state').getAttribute('data-held')).toBe('1');
    await r.click('#review-approve');
    await poll(() => cell(r, A).getAttribute('data-review')).toBe('approved');
    await a.click('#refresh');
    await poll(() => ownRow(a).locator('[data-review]').count()).toBe(1);
    expect(await ownRow(a).locator('[data-review]').first().getAttribute('data-review')).toBe('approved');
  });

  it('a disabled user is refused within a minute; a wrong password is recorded', async () => {
    const b = pages.b.page;
    expect(await b.locator('#app-view').isVisible()).toBe(true);
    const admin = pages.admin.page;
    await admin.click('#tab-users');
    await admin.locator(`#users-table tr[data-user="${PEOPLE.b.phone}"] [data-action="disable"]`).click();
    await poll(() => admin.locator(`#users-table tr[data-user="${PEOPLE.b.phone}"]`).textContent()).toContain('已停用');
    const disabledAt = Date.now();
    await expect
      .poll(
        async () => {
          // the page asks the API again; on a 401 it shows the sign-in (and the button goes with the page)
          if (await b.locator('#refresh').isVisible()) await b.click('#refresh');
          return b.locator('#login-view').isVisible();
        },
        { timeout: 60_000, interval: 500 },
      )
      .toBe(true);
    expect(Date.now() - disabledAt).toBeLessThan(60_000);
    await b.fill('#login-user', PEOPLE.b.phone);
    await b.fill('#login-password', OWN);
    await b.click('#login-submit');
    await poll(() => b.locator('#login-error').textContent()).toBe('账号已停用，请联系本旗县卫健委的管理员');
    await b.fill('#login-user', PEOPLE.a.phone);
    await b.fill('#login-password', 'Wrong-pass-9');
    await b.click('#login-submit');
    await poll(() => b.locator('#login-error').textContent()).toBe('手机号或密码不正确');
  });

  it('the 操作记录 page shows all of it, and exports it', async () => {
    const admin = pages.admin.page;
    await admin.click('#tab-audit');
    await admin.selectOption('#audit-from', '2025-04');
    await admin.click('#audit-search');
    const rows = admin.locator('#audit-table tbody tr');
    await poll(() => rows.count()).toBeGreaterThan(20);
    const text = (await admin.locator('#audit-table tbody').textContent())!;
    for (const expected of [
      '新增用户：张填报（13800000101），填报员，八仙筒镇中心卫生院',
      '新增用户：王审核（13800000001），审核员，奈曼旗卫生健康委员会',
      '设置新密码并登录',
      '说明：备注较长：本月集中开展义诊',
      '已核实警告：八仙筒镇中心卫生院 基层医疗卫生机构月报 2025年3月',
      '退回：八仙筒镇中心卫生院 基层医疗卫生机构月报 2025年3月。原因：备注过长，请精简后重新上报',
      '审核通过：青龙山镇中心卫生院 基层医疗卫生机构月报 2025年3月',
      '关账：2025年3月',
      '（已关账：作为补报，待审核通过后替换原报表）',
      '审核通过：八仙筒镇中心卫生院 基层医疗卫生机构月报 2025年3月补报（替换原报表）',
      '停用用户：李填报（13800000102）',
      '登录失败：账号已停用',
      '登录失败：手机号或密码不正确',
    ]) {
      expect(text, expected).toContain(expected);
    }
    // every upload with who and from where
    const uploads = admin.locator('#audit-table tbody tr[data-action="upload"]');
    expect(await uploads.count()).toBe(4);
    expect(await uploads.first().textContent()).toContain('127.0.0.1');
    expect(await admin.locator('#audit-table tbody tr[data-outcome="refused"]').count()).toBe(2);
    await admin.screenshot({ path: join(SHOTS, '15-audit.png'), fullPage: true });

    // filtered to one person, and exported
    await admin.fill('#audit-actor', PEOPLE.reviewer.phone);
    await admin.click('#audit-search');
    await poll(async () => (await rows.allTextContents()).every((t) => t.includes(PEOPLE.reviewer.phone))).toBe(true);
    await admin.fill('#audit-actor', '');
    await admin.click('#audit-search');
    await poll(() => rows.count()).toBeGreaterThan(20);
    const total = await rows.count();
    const [download] = await Promise.all([admin.waitForEvent('download'), admin.click('#audit-export')]);
    expect(download.suggestedFilename()).toBe('奈曼旗操作记录_2025-04.xlsx');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await readFile((await download.path())!)) as unknown as ExcelJS.Buffer);
    expect(wb.getWorksheet('操作记录')!.rowCount).toBe(2 + total);
  });

  it('logout ends the session: the cookies kept from before it are refused', async () => {
    const { context, page } = pages.a;
    await page.click('#refresh');
    const cookies = await context.cookies();
    expect(cookies.map((c) => c.name).sort()).toEqual(['hmis_refresh', 'hmis_session']);
    await page.click('#logout');
    await page.waitForSelector('#login-view:not([hidden])');
    const thief = await browser.newContext();
    await thief.addCookies(cookies);
    expect((await thief.request.get(`${base}/api/me`)).status()).toBe(401);
    await thief.close();
  });
});
