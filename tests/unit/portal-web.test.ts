/**
 * The page stays small, old-browser safe and CSP-clean: JavaScript under its 200 KB budget, syntax an
 * old Chromium (the speed mode of 360/QQ/WPS browsers) runs unchanged, nothing the CSP would block,
 * nothing from the server parsed as HTML. An institution's page is everything but staff.js (the views
 * of reviewers, administrators and the city, loaded for them only).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { transformSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { WEB_DIR } from '../../functions/adapters/local/portal.ts';

const files = async () => {
  const names = await readdir(WEB_DIR);
  return Promise.all(names.map(async (name) => ({ name, text: await readFile(join(WEB_DIR, name), 'utf8') })));
};

describe('portal page', () => {
  it('weighs little: JavaScript under 200 KB; an institution’s page under 60 KB (20 KB gzipped), the staff views under 40 KB more', async () => {
    const all = await files();
    const js = all.filter((f) => f.name.endsWith('.js'));
    expect(js.reduce((n, f) => n + Buffer.byteLength(f.text), 0)).toBeLessThan(200 * 1024);
    const institution = all.filter((f) => f.name !== 'staff.js');
    expect(institution.map((f) => f.name).sort()).toEqual(['app.js', 'favicon.svg', 'index.html', 'style.css']);
    expect(institution.reduce((n, f) => n + Buffer.byteLength(f.text), 0)).toBeLessThan(60 * 1024);
    expect(institution.reduce((n, f) => n + gzipSync(f.text, { level: 9 }).length, 0)).toBeLessThan(20 * 1024);
    expect(Buffer.byteLength(all.find((f) => f.name === 'staff.js')!.text)).toBeLessThan(40 * 1024);
  });

  it.each(['app.js', 'staff.js'])('%s needs nothing newer than Chromium 60: esbuild has nothing to lower', async (name) => {
    const code = await readFile(join(WEB_DIR, name), 'utf8');
    const modern = transformSync(code, { target: 'esnext', format: 'iife' }).code;
    const old = transformSync(code, { target: 'chrome60', format: 'iife' }).code;
    expect(old).toBe(modern);
  });

  it('no inline styles or scripts (the CSP forbids them), no innerHTML', async () => {
    for (const f of await files()) {
      if (f.name.endsWith('.html')) {
        expect(f.text, f.name).not.toMatch(/\sstyle=|<script>|\son[a-z]+=/i);
      }
      if (f.name.endsWith('.js')) {
        expect(f.text, f.name).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function|style:\s*'/);
      }
    }
  });
});
