/**
 * The portal end to end: a real headless Chromium (Debian's /usr/bin/chromium through playwright-core)
 * against `hmis serve`'s own serve() in this process, every port free, a fresh data dir, on a
 * simulated clock (as `hmis serve --clock`).
 *
 * Before the browser starts, 奈曼旗's sample returns of 2025-01 … 2025-03 are uploaded, each at its
 * time in the sample months (most before the deadline, a few after), for every institution but
 * 八仙筒镇中心卫生院 (150525-101; only its two earlier ledgers). The browser then works on Monday
 * 2025-04-07, two days after the deadline: 2025-03 returns uploaded later have not arrived yet.
 * 101's statistician (a 填报员) signs in, downloads the blank template, uploads a wrong workbook (rule JC-R01:
 * 规范建档 > 建档), sees the errors and the marked-up workbook, uploads a correct one and sees it
 * accepted, then its first-quarter return (T-QY), which March's reporting window also holds. The
 * commission's administrator (管理员 and 审核员 of 150525-000) sees those cells of the grid change,
 * regenerates the consolidated workbook and downloads it. (People, review and the audit trail end to
 * end: tests/e2e/review.test.ts.) On a phone (390×844), the statistician opens the link of
 * the rejection alert and the commission the digest's link: no sideways scrolling, tables as cards.
 *
 * Screenshots (1366×768, and 390×844 for the phone) go to test-output/screenshots/ (git-ignored).
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import ExcelJS from 'exceljs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { tsImport } from 'tsx/esm/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../../functions/cli/serve.ts';
import { readAlerts } from '../../functions/cli/alerts.ts';
import { addPeople, TEST_PASSWORD } from '../support/people.ts';

type ServeModule = typeof import('../../functions/cli/serve.ts');
type ClientsModule = typeof import('../../functions/adapters/aws/clients.ts');
type FixturesModule = typeof import('../../fixtures/sample/write.ts');

const CHROMIUM = process.env.HMIS_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = resolve('test-output/screenshots');
const FIXTURES = resolve('fixtures/workbooks');
const INSTITUTION = '150525-101';
const COMMISSION = '150525-000';
/** the people signing in: 101's 填报员 and the commission's 管理员 (also 审核员, and 填报员 of the commission's own returns) */
const REPORTER = '13800000101';
const ADMIN = '13800000000';
const PERIOD = '2025-03';
const VIEWPORT = { width: 1366, height: 768 };
const PHONE = { width: 390, height: 844 };
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
/** the browser's day: Monday after the deadline of 2025-03 */
const TODAY = new Date('2025-04-07T10:00:00+08:00');

// no silent skip: without a browser the portal is untested, and that must show as a failure
if (!existsSync(CHROMIUM)) throw new Error(`[e2e] ${CHROMIUM} not found: apt-get install chromium (.ci/run does), or set HMIS_CHROMIUM`);

describe('portal in a browser', { timeout: 60_000 }, () => {
  let dataDir: string;
  let serving: Serving;
  let browser: Browser;
  let base: string;
  let inst: { context: BrowserContext; page: Page };
  let comm: { context: BrowserContext; page: Page };
  const out: string[] = [];
  // the sample months' upload times, then from TODAY on at real speed
  let simulated = new Date('2025-02-01T00:00:00+08:00');
  let clock = () => simulated;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'hmis-e2e-portal-'));
    await mkdir(SHOTS, { recursive: true });
    // Node (tsx) loads the AWS SDK, not vitest's module runner (seconds faster, as in tests/setup/global.ts)
    const { serve, runningFrom } = (await tsImport('../../functions/cli/serve.ts', import.meta.url)) as ServeModule;
    const { makeClients } = (await tsImport('../../functions/adapters/aws/clients.ts', import.meta.url)) as ClientsModule;
    const { writeFixtures } = (await tsImport('../../fixtures/sample/write.ts', import.meta.url)) as FixturesModule;

    const [served, fixtures] = await Promise.all([
      serve({ dataDir: join(dataDir, 'stack'), s3Port: 0, dynamodbPort: 0, snsPort: 0, portalPort: 0, clock: () => clock(), out: (line) => out.push(line) }),
      writeFixtures(join(dataDir, 'samples'), { periods: ['2025-01', '2025-02', PERIOD] }),
    ]);
    serving = served;
    base = serving.portal!.url;
    // a new user pool gets one administrator per county, printed with the temporary password
    const first = serving.portal!.users.find((u) => u.unit === COMMISSION)!;
    expect(out.join('\n')).toContain(`${first.username}  ${first.temporaryPassword}  管理员、审核员  奈曼旗`);
    await addPeople(serving.stack.endpoints, [
      { username: REPORTER, name: '张填报', roles: ['reporter'], unit: INSTITUTION },
      { username: ADMIN, name: '赵管理', roles: ['admin', 'reviewer', 'reporter'], unit: COMMISSION },
    ]);

    const clients = makeClients(serving.stack.endpoints);
    // the institution under test has only its earlier ledgers (no history checks, so its T-JC upload is judged alone)
    const files = fixtures.manifest.files
      .filter((f) => f.institution !== INSTITUTION || (f.template === 'T-TZ' && f.period !== PERIOD))
      .filter((f) => Date.parse(f.uploadedAt) <= TODAY.getTime())
      .sort((a, b) => a.uploadOrder - b.uploadOrder);
    for (const f of files) {
      simulated = new Date(f.uploadedAt);
      const key = `uploads/${f.county}/${f.institution}/${f.template}/${f.period}/${f.file.split('/').pop()}`;
      await clients.s3.send(new PutObjectCommand({ Bucket: serving.stack.endpoints.buckets.uploads, Key: key, Body: await readFile(join(dataDir, 'samples', f.file)) }));
    }
    clients.destroy();
    await serving.stack.idle();
    clock = runningFrom(TODAY);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    const open = async (slow: boolean) => {
      const context = await browser.newContext({ viewport: VIEWPORT, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true });
      const page = await context.newPage();
      page.on('pageerror', (err) => out.push(`[page error] ${err.message}`));
      if (slow) {
        // a township health centre's line: 1 Mbit/s both ways, 150 ms round trip
        const cdp = await context.newCDPSession(page);
        await cdp.send('Network.enable');
        await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 150, downloadThroughput: 125_000, uploadThroughput: 125_000 });
      }
      return { context, page };
    };
    inst = await open(true);
    comm = await open(false);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    serving?.scheduler.stop();
    await serving?.portal?.close();
    await serving?.stack.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    const errors = out.filter((l) => l.startsWith('[page error]'));
    expect(errors).toEqual([]);
  });

  async function signIn(page: Page, username: string) {
    await page.goto(base);
    await page.fill('#login-user', username);
    await page.fill('#login-password', TEST_PASSWORD);
    await page.click('#login-submit');
    await page.waitForSelector('#app-view:not([hidden])');
    await page.selectOption('#period', PERIOD);
    // the view of the default period may still be on screen: wait for the chosen one
    await page.waitForSelector(`#app-view[data-period="${PERIOD}"]`);
  }

  const gridCell = (page: Page, institution: string, template: string) => page.locator(`#grid tr[data-institution="${institution}"] td[data-template="${template}"]`);

  it('the commission signs in and sees the grid before the institution reports', async () => {
    const { page } = comm;
    await page.goto(base);
    await page.waitForSelector('#login-view:not([hidden])');
    await page.screenshot({ path: join(SHOTS, '01-login.png') });
    await signIn(page, ADMIN);
    await expect.poll(() => gridCell(page, INSTITUTION, 'T-JC').getAttribute('data-status')).toBe('missing');
    // the sample set's own wrong upload of this period shows as rejected, others accepted
    await expect.poll(() => page.locator('#grid td[data-status="accepted"]').count()).toBeGreaterThan(10);
  });

  it('an institution signs in, downloads its template, uploads a wrong workbook and sees the errors', async () => {
    const { page } = inst;
    // on the slow line the sign-in page is there in well under two seconds, a few KB over the wire
    const started = Date.now();
    await page.goto(base);
    await page.waitForSelector('#login-view:not([hidden])');
    expect(Date.now() - started).toBeLessThan(2_000);
    const transferred = await page.evaluate(() =>
      (performance.getEntriesByType('navigation') as PerformanceResourceTiming[])
        .concat(performance.getEntriesByType('resource') as PerformanceResourceTiming[])
        .reduce((n, e) => n + e.transferSize, 0),
    );
    console.info(`[e2e] sign-in page at 1 Mbit/s: ${Date.now() - started} ms, ${transferred} bytes`);
    expect(transferred).toBeGreaterThan(0);
    expect(transferred).toBeLessThan(30_000);
    await signIn(page, REPORTER);
    await expect(page.locator('#who-name').textContent()).resolves.toContain('八仙筒镇中心卫生院');
    const row = page.locator('#own-table tr[data-template="T-JC"]');
    await row.waitFor();

    const [download] = await Promise.all([page.waitForEvent('download'), row.locator('[data-action="template"]').click()]);
    expect(download.suggestedFilename()).toBe(`基层医疗卫生机构月报_八仙筒镇中心卫生院_${PERIOD}.xlsx`);
    const template = await readFile((await download.path())!);
    expect(template.subarray(0, 2).toString()).toBe('PK');

    await page.setInputFiles('#own-table input[type=file][data-template="T-JC"]', join(FIXTURES, 'rule-JC-R01.xlsx'));
    const status = page.locator('#result-status');
    await status.waitFor({ timeout: 30_000 });
    await expect(status.getAttribute('data-status')).resolves.toBe('rejected');
    const issues = await page.locator('#issue-table tbody').textContent();
    expect(issues).toContain('D10');
    expect(issues).toContain('不能大于');

    const [feedback] = await Promise.all([page.waitForEvent('download'), page.click('#feedback-link')]);
    expect(feedback.suggestedFilename()).toMatch(/^校验结果_T-JC_150525-101_2025-03\.xlsx$/);
    expect((await readFile((await feedback.path())!)).subarray(0, 2).toString()).toBe('PK');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SHOTS, '02-institution-rejected.png') });
    await page.screenshot({ path: join(SHOTS, '02-institution-rejected-full.png'), fullPage: true });
  });

  it('the corrected workbook is accepted and listed in the history', async () => {
    const { page } = inst;
    await page.setInputFiles('#own-table input[type=file][data-template="T-JC"]', join(FIXTURES, 'valid-T-JC.xlsx'));
    await expect.poll(() => page.locator('#result-status').getAttribute('data-status'), { timeout: 30_000 }).toBe('accepted');
    await expect.poll(() => page.locator('#history-table tbody tr').count()).toBe(2);
    await expect(page.locator('#own-table tr[data-template="T-JC"] .chip').first().textContent()).resolves.toBe('已通过');
    await expect.poll(() => page.locator('#months td.current .box').first().textContent()).toBe('已通过');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SHOTS, '03-institution-accepted.png') });
  });

  it('March’s window also holds the first quarter’s return: the quarter’s template, its deadline, its upload', async () => {
    const { page } = inst;
    const row = page.locator('#own-table tr[data-template="T-QY"]');
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain('2025年第1季度 · 截止 2025年4月15日23:59');
    const [download] = await Promise.all([page.waitForEvent('download'), row.locator('[data-action="template"]').click()]);
    expect(download.suggestedFilename()).toBe('家庭医生签约服务季报_八仙筒镇中心卫生院_2025-Q1.xlsx');
    const blank = new ExcelJS.Workbook();
    await blank.xlsx.load((await readFile((await download.path())!)) as unknown as ArrayBuffer);
    expect(blank.getWorksheet('家庭医生季报')!.getCell('B4').value).toBe('2025-Q1');
    await page.setInputFiles('#own-table input[data-template="T-QY"]', join(FIXTURES, 'valid-T-QY.xlsx'));
    // the result card shows this upload (the card of the month's T-JC was there before)
    await expect.poll(() => page.locator('#result-sub').textContent(), { timeout: 30_000 }).toContain('2025年第1季度 T-QY');
    expect(await page.locator('#result-status').getAttribute('data-status')).toBe('accepted');
    await expect.poll(() => row.locator('.chip').first().textContent()).toBe('已通过');
  });

  it('the commission sees the grid change, regenerates and downloads the consolidated workbook', async () => {
    const { page } = comm;
    await page.click('#refresh');
    await expect.poll(() => gridCell(page, INSTITUTION, 'T-JC').getAttribute('data-status')).toBe('accepted');
    // the quarterly return has its own column, labelled with its quarter; nobody else has sent it yet
    await expect(page.locator('#grid thead').textContent()).resolves.toContain('T-QY · 2025年第1季度');
    await expect.poll(() => gridCell(page, INSTITUTION, 'T-QY').getAttribute('data-status')).toBe('accepted');
    expect(await gridCell(page, '150525-102', 'T-QY').getAttribute('data-status')).toBe('missing');
    await expect.poll(() => page.locator('#indicators tbody tr').count()).toBeGreaterThan(3);

    await page.click('#regenerate');
    const latest = page.locator(`#consolidated tr[data-period="${PERIOD}"] a`);
    await latest.waitFor({ timeout: 30_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), latest.click()]);
    expect(download.suggestedFilename()).toBe(`奈曼旗汇总表_${PERIOD}.xlsx`);
    const bytes = await readFile((await download.path())!);
    expect(bytes.subarray(0, 2).toString()).toBe('PK');
    expect(bytes.length).toBeGreaterThan(10_000);
    await page.click('#toast');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SHOTS, '04-commission.png') });
    await page.screenshot({ path: join(SHOTS, '04-commission-full.png'), fullPage: true });
  });

  it('the commission reads a key indicator’s trend against its target, ranks the institutions, clicks one for its own series, and downloads the data draft', async () => {
    const { page } = comm;
    await page.waitForSelector('#trend-chart svg path.line');
    const code = await page.locator('#trend-code').inputValue();
    const api = (q: string) => page.evaluate((u) => fetch(u).then((r) => r.json()), `/api/trend?${q}`) as Promise<{ points: Array<{ period: string; value: number | null; target: { value: number } | null }>; ranking: Array<{ code: string; name: string; value: number | null }> | null }>;
    const county = await api(`code=${code}&months=12&to=${PERIOD}`);
    // one dot per month with a value (the sample months here: 2025-01 … 03), the target line over 2025
    const withValue = county.points.filter((p) => p.value !== null);
    expect(withValue.map((p) => p.period)).toEqual(['2025-01', '2025-02', '2025-03']);
    await expect.poll(() => page.locator('#trend-chart circle').count()).toBe(withValue.length);
    expect(await page.locator('#trend-chart circle title').last().textContent()).toContain('2025年3月');
    expect(await page.locator('#trend-chart path.target').getAttribute('d')).toMatch(/^M[\d.]+ [\d.]+(L[\d.]+ [\d.]+){2}$/);
    // ranking bars: every institution owing the return, best first
    const bars = page.locator('#trend-rank g.bar');
    await expect.poll(() => bars.count()).toBe(county.ranking!.length);
    expect(county.ranking!.length).toBe(21);
    expect(await bars.first().getAttribute('data-institution')).toBe(county.ranking![0]!.code);
    await page.locator('#trend-card').scrollIntoViewIfNeeded();
    await page.locator('#trend-card').screenshot({ path: join(SHOTS, '09-trend-county.png') });

    // click an institution: its own series, the bar marked; click again: the county's total
    const pick = county.ranking![2]!;
    await page.locator(`#trend-rank g.bar[data-institution="${pick.code}"]`).click();
    await expect.poll(() => page.locator('#trend-sub').textContent()).toContain(pick.name);
    expect(await page.locator('#trend-rank g.bar.on').getAttribute('data-institution')).toBe(pick.code);
    const own = await api(`code=${code}&months=12&to=${PERIOD}&institution=${pick.code}`);
    expect(own.points.at(-1)!.value).toBe(pick.value);
    expect(await page.locator('#trend-chart circle title').last().textContent()).toContain(String(Math.round(pick.value! * 100) / 100).slice(0, 4));
    await page.locator('#trend-card').screenshot({ path: join(SHOTS, '10-trend-institution.png') });
    await page.locator(`#trend-rank g.bar[data-institution="${pick.code}"]`).click();
    await expect.poll(() => page.locator('#trend-sub').textContent()).toContain('奈曼旗合计');

    // 24 months, another indicator
    await page.selectOption('#trend-months', '24');
    await page.selectOption('#trend-code', 'JC-I11');
    await expect.poll(() => page.locator('#trend-sub').textContent()).toContain('免疫规划疫苗接种率');

    // the data draft of the month, as Word
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#draft-month')]);
    expect(download.suggestedFilename()).toBe(`奈曼旗2025年3月卫生健康工作总结数据稿.docx`);
    const JSZip = (await import('jszip')).default;
    const xml = await (await JSZip.loadAsync(await readFile((await download.path())!))).file('word/document.xml')!.async('string');
    const text = [...xml.matchAll(/<w:t(?: [^>]*)?>([^<]*)<\/w:t>/g)].map((m) => m[1]).join('');
    expect(text).toContain('截至2025年3月底，全旗应管理高血压患者');
    expect(text).toContain('附表：主要指标');
    expect(await page.locator('#draft-year').getAttribute('href')).toBe('/api/draft?period=2025');
    expect(await page.locator('#draft-quarter').getAttribute('href')).toBe('/api/draft?period=2025-Q1');
  });

  it('the commission downloads the definitions workbook, adds an institution, checks, imports it from May and sees the history', async () => {
    const { page } = comm;
    await page.click('#tab-defs');
    await expect.poll(() => page.locator('#defs-history tbody tr').count()).toBe(1);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#defs-download')]);
    expect(download.suggestedFilename()).toBe('报表定义_第1版.xlsx');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await readFile((await download.path())!)) as unknown as ExcelJS.Buffer);
    wb.getWorksheet('机构')!.addRow(['150525', '150525-122', '新建社区卫生服务站', '社区卫生服务中心', null, '王五', '0475-4200099']);
    await page.setInputFiles('#defs-file', { name: '报表定义.xlsx', mimeType: XLSX, buffer: Buffer.from(await wb.xlsx.writeBuffer()) });
    await page.selectOption('#defs-effective', '2025-05');
    await page.click('#defs-check');
    await expect.poll(() => page.locator('#defs-result').textContent()).toContain('新增机构 1 家：新建社区卫生服务站（150525-122）');
    await expect.poll(() => page.locator('#defs-result .notice').textContent()).toContain('检查通过');
    await page.screenshot({ path: join(SHOTS, '07-definitions-check.png'), fullPage: true });
    await page.click('#defs-import');
    await expect.poll(() => page.locator('#defs-result .notice').textContent()).toContain('已导入：定义第 2 版，自 2025年5月 起执行');
    await expect.poll(() => page.locator('#defs-history tbody tr').count()).toBe(2);
    await expect.poll(() => page.locator('#defs-history tbody tr').first().textContent()).toContain('赵管理（奈曼旗卫生健康委员会）');
    await page.screenshot({ path: join(SHOTS, '08-definitions-history.png'), fullPage: true });
    // in force from May only: April's grid is as it was
    await page.click('#tab-county');
    await expect.poll(() => page.locator('#grid tr[data-institution="150525-122"]').count()).toBe(0);
  });

  /** A phone as WeChat's browser is one: 390×844, touch, the page laid out at the device width. */
  async function phone(username: string, path: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true });
    const page = await context.newPage();
    page.on('pageerror', (err) => out.push(`[page error] ${err.message}`));
    await page.goto(base + path);
    await page.waitForSelector('#login-view:not([hidden])');
    await page.fill('#login-user', username);
    await page.fill('#login-password', TEST_PASSWORD);
    await page.click('#login-submit');
    await page.waitForSelector('#app-view:not([hidden])');
    return { context, page };
  }

  /** What reads badly on a phone: sideways scrolling, a header broken a character per line, a 逾期 mark over a link or button. */
  async function phoneProblems(page: Page, width = PHONE.width): Promise<string[]> {
    return page.evaluate((width) => {
      const problems: string[] = [];
      const doc = document.scrollingElement!;
      if (innerWidth !== width) problems.push(`laid out at ${innerWidth} px, not the phone's ${width}`);
      if (doc.scrollWidth > innerWidth) problems.push(`page scrolls sideways: ${doc.scrollWidth} > ${innerWidth}`);
      const shown = (el: Element) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.height > 0 ? r : null;
      };
      for (const th of Array.from(document.querySelectorAll('th'))) {
        const r = shown(th);
        const lineHeight = parseFloat(getComputedStyle(th).lineHeight) || 20;
        if (r && th.textContent!.trim().length > 1 && r.height > 2.5 * lineHeight) problems.push(`header 「${th.textContent!.trim()}」 wraps: ${Math.round(r.height)} px high`);
      }
      const marks = Array.from(document.querySelectorAll('.late-tag, .late-mark')).flatMap((el) => (shown(el) ? [[el, shown(el)!] as const] : []));
      const targets = Array.from(document.querySelectorAll('a, button, select')).flatMap((el) => (shown(el) ? [[el, shown(el)!] as const] : []));
      for (const [mark, m] of marks) {
        for (const [target, t] of targets) {
          if (mark.contains(target) || target.contains(mark)) continue;
          if (m.left < t.right - 1 && t.left < m.right - 1 && m.top < t.bottom - 1 && t.top < m.bottom - 1) problems.push(`逾期 mark over 「${(target.textContent ?? '').trim().slice(0, 20)}」`);
        }
      }
      return problems;
    }, width);
  }

  it('on a phone, the statistician opens the rejection alert’s link and reads what is wrong', async () => {
    // the alert of the wrong workbook uploaded above: one SMS segment, the full text with the portal's page of the upload
    const alert = (await readAlerts(serving.stack.dataDir)).find((a) => a.attributes.institution === INSTITUTION && a.attributes.kind === 'rejection')!;
    expect(alert.deliveries.sms).toBe('【卫健统计】八仙筒镇中心卫生院 2025年3月基层月报未通过（错误1项），请登录报送平台查看');
    expect(alert.smsSegments).toBe(1);
    const link = new URL(alert.deliveries.email.match(/http:\/\/127\.0\.0\.1:\d+\/submissions\/\S+/)![0]);
    expect(link.origin).toBe(base);

    const { context, page } = await phone(REPORTER, link.pathname);
    await expect.poll(() => page.locator('#result-status').getAttribute('data-status')).toBe('rejected');
    expect(await page.locator('#issue-table').textContent()).toContain('D10');
    expect(await page.locator('#feedback-link').isVisible()).toBe(true);
    // what is due, and its status, as cards
    await expect.poll(() => page.locator('#own-table tr[data-template="T-JC"] td[data-label="状态"]').textContent()).toContain('已通过');
    expect(await page.locator('#own-table thead').isVisible()).toBe(false);
    expect(await phoneProblems(page)).toEqual([]);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SHOTS, '05-phone-institution.png') });
    await page.screenshot({ path: join(SHOTS, '05-phone-institution-full.png'), fullPage: true });
    await context.close();
  });

  it('on a phone, the commission opens the digest’s link and reads the month’s summary', async () => {
    const { context, page } = await phone(ADMIN, `/?period=${PERIOD}`);
    expect(await page.locator('#period').inputValue()).toBe(PERIOD);
    await expect.poll(() => gridCell(page, INSTITUTION, 'T-JC').getAttribute('data-status')).toBe('accepted');
    await expect.poll(() => page.locator('#indicators tbody tr').count()).toBeGreaterThan(3);
    await page.locator(`#consolidated tr[data-period="${PERIOD}"] a`).waitFor();
    // a normal month: most on time, a few late, each marked where a phone can see it
    const timely = Number((await page.locator('#stats .stat').nth(7).locator('.v').textContent())!.replace('%', ''));
    expect(timely).toBeGreaterThan(50);
    expect(timely).toBeLessThan(100);
    expect(await page.locator('#grid .late-tag').count()).toBeGreaterThan(0);
    expect(await page.locator('#grid .late-tag').first().isVisible()).toBe(true);
    // the grid is a list of institutions, one line per return owed
    const row = page.locator(`#grid tr[data-institution="${INSTITUTION}"]`);
    expect((await row.boundingBox())!.width).toBeLessThanOrEqual(PHONE.width);
    expect(await row.locator('td[data-template="T-JC"]').getAttribute('data-label')).toBe('基层医疗卫生机构月报');
    expect(await phoneProblems(page)).toEqual([]);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SHOTS, '06-phone-commission.png') });
    await page.screenshot({ path: join(SHOTS, '06-phone-commission-full.png'), fullPage: true });
    // the narrowest and widest common phones, and the institution's view on them
    for (const width of [360, 414]) {
      await page.setViewportSize({ width, height: PHONE.height });
      expect(await phoneProblems(page, width), `commission at ${width} px`).toEqual([]);
    }
    await page.click('#tab-own');
    await page.locator('#own-table tbody tr').first().waitFor();
    expect(await phoneProblems(page, 414), 'own view at 414 px').toEqual([]);
    await context.close();
  });

  it('an institution cannot read or upload another institution’s data', async () => {
    const request = inst.context.request;
    const other = '150525-102';
    const forbidden = [
      `/api/submissions?period=${PERIOD}&institution=${other}`,
      `/api/template?template=T-JC&period=${PERIOD}&institution=${other}`,
      `/api/report?institution=${other}&template=T-JC&period=${PERIOD}&versionId=0123456789abcdef0123`,
      `/api/download/feedback?institution=${other}&template=T-JC&period=${PERIOD}&versionId=0123456789abcdef0123`,
      `/api/upload-status?key=${encodeURIComponent(`uploads/150525/${other}/T-JC/${PERIOD}/x.xlsx`)}`,
      `/api/county?period=${PERIOD}`,
      `/api/indicators?period=${PERIOD}`,
      '/api/consolidated',
      `/api/download/consolidated?key=${encodeURIComponent(`consolidated/150525/latest/${PERIOD}.xlsx`)}`,
    ];
    for (const path of forbidden) {
      const res = await request.get(base + path, { maxRedirects: 0 });
      expect(res.status(), path).toBe(403);
    }
    const signOther = await request.post(`${base}/api/uploads`, { data: { institution: other, template: 'T-JC', period: PERIOD, fileName: 'x.xlsx', size: 100 } });
    expect(signOther.status()).toBe(403);
    const regenerate = await request.post(`${base}/api/regenerate`, { data: { period: PERIOD } });
    expect(regenerate.status()).toBe(403);

    // what it may sign is one exact key under its own prefix, with its own code as uploader
    const own = await request.post(`${base}/api/uploads`, { data: { template: 'T-JC', period: PERIOD, fileName: '../../150525-102/x.xlsx', size: 100 } });
    expect(own.status()).toBe(200);
    const post = (await own.json()) as { url: string; key: string; fields: Record<string, string> };
    expect(post.key).toMatch(new RegExp(`^uploads/150525/${INSTITUTION}/T-JC/${PERIOD}/[^/]+\\.xlsx$`));
    expect(post.fields.key).toBe(post.key);
    expect(post.fields['x-amz-meta-uploader']).toBe(INSTITUTION);
    expect(post.fields['x-amz-meta-uploader-user']).toBe(REPORTER);
    const policy = JSON.parse(Buffer.from(post.fields.Policy!, 'base64').toString('utf8')) as { conditions: unknown[] };
    expect(policy.conditions).toContainEqual({ key: post.key });
    expect(policy.conditions).toContainEqual(['content-length-range', 1, 10 * 1024 * 1024]);

    // the local S3 enforces the POST policy, as S3 does: a forged key under another prefix is refused and
    // nothing is stored (were it stored, ingest would refuse it: uploader-not-allowed, tests/unit/ingest-alerts.test.ts)
    const forged = `uploads/150525/${other}/T-JC/${PERIOD}/forged.xlsx`;
    const form = new FormData();
    for (const [k, v] of Object.entries(post.fields)) form.append(k, k === 'key' ? forged : v);
    form.append('file', new Blob([await readFile(join(FIXTURES, 'valid-T-JC.xlsx'))]), 'forged.xlsx');
    const posted = await fetch(post.url, { method: 'POST', body: form });
    expect(posted.status).toBe(403);
    expect(await posted.text()).toContain('Invalid according to Policy');
    await serving.stack.idle();
    const seen = await comm.context.request.get(`${base}/api/submissions?period=${PERIOD}&institution=${other}`);
    const rows = ((await seen.json()) as { rows: Array<{ template: string; versions: Array<{ objectKey: string }> }> }).rows;
    expect(rows.flatMap((r) => r.versions).filter((v) => v.objectKey === forged)).toEqual([]);

    // without the session nothing is readable
    const anonymous = await browser.newContext();
    const res = await anonymous.request.get(`${base}/api/submissions?period=${PERIOD}`);
    expect(res.status()).toBe(401);
    await anonymous.close();
  });
});
