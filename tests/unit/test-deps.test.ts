/**
 * `npm test`'s pretest (scripts/test-deps.ts) against a directory of stand-ins (HMIS_DEPS_ROOT): what
 * it finds missing, and what it does about it as root and as anyone else. Nothing is installed or
 * removed for real: the stand-in apt-get only records its calls and "installs" by creating the files
 * the probes look for.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureTestDependencies, missingPackages, planFor } from '../../scripts/test-deps.ts';

const run = promisify(execFile);
const ALL = ['python3-openpyxl', 'python3-boto3', 'libreoffice-calc-nogui', 'poppler-utils', 'chromium', 'fonts-noto-cjk'];
const FONT = '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc';

let root: string;
const env = { PATH: process.env.PATH } as NodeJS.ProcessEnv;

async function put(path: string, text: string, mode = 0o755): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), text);
  await chmod(join(root, path), mode);
}

/** python3 that imports exactly the modules listed in <root>/python-modules */
const PYTHON = `#!/bin/sh
here=$(dirname "$0")/../..
module=$(printf '%s' "$2" | sed 's/^import //')
grep -qx "$module" "$here/python-modules" 2>/dev/null
`;

/** apt-get that records its calls and "installs" what it is asked for */
const APT_GET = `#!/bin/sh
root=$(dirname "$0")/../..
echo "$DEBIAN_FRONTEND $*" >> "$root/apt.log"
[ "$1" = install ] || exit 0
for pkg in "$@"; do
  case "$pkg" in
    python3-openpyxl) echo openpyxl >> "$root/python-modules" ;;
    python3-boto3) echo boto3 >> "$root/python-modules" ;;
    libreoffice-calc-nogui) mkdir -p "$root/usr/bin" && printf '#!/bin/sh\\n' > "$root/usr/bin/soffice" && chmod +x "$root/usr/bin/soffice" ;;
    poppler-utils) for t in pdftotext pdftoppm; do printf '#!/bin/sh\\n' > "$root/usr/bin/$t" && chmod +x "$root/usr/bin/$t"; done ;;
    chromium) printf '#!/bin/sh\\n' > "$root/usr/bin/chromium" && chmod +x "$root/usr/bin/chromium" ;;
    fonts-noto-cjk) mkdir -p "$root${dirname(FONT)}" && : > "$root${FONT}" ;;
  esac
done
`;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'hmis-deps-'));
  await put('/usr/bin/python3', PYTHON);
});
afterEach(() => rm(root, { recursive: true, force: true }));

const names = () => missingPackages(root, env).map((d) => d.pkg);

describe('what the pretest finds missing', () => {
  it('everything on a bare machine, nothing once all is there', async () => {
    expect(names()).toEqual(ALL);
    await writeFile(join(root, 'python-modules'), 'openpyxl\nboto3\n');
    await put('/opt/libreoffice/program/soffice', '#!/bin/sh\n');
    await put('/usr/bin/pdftotext', '#!/bin/sh\n');
    await put('/usr/bin/pdftoppm', '#!/bin/sh\n');
    await put('/usr/bin/chromium', '#!/bin/sh\n');
    await put(FONT, '', 0o644);
    expect(names()).toEqual([]);
  });

  it('each piece on its own: a python without boto3, a soffice that is not executable, pdftoppm without pdftotext, HMIS_CHROMIUM elsewhere', async () => {
    await writeFile(join(root, 'python-modules'), 'openpyxl\n');
    await put('/usr/bin/soffice', '', 0o644);
    await put('/usr/bin/pdftoppm', '#!/bin/sh\n');
    await put('/elsewhere/chrome', '#!/bin/sh\n');
    expect(names()).toEqual(['python3-boto3', 'libreoffice-calc-nogui', 'poppler-utils', 'chromium', 'fonts-noto-cjk']);
    expect(missingPackages(root, { ...env, HMIS_CHROMIUM: join(root, '/elsewhere/chrome') }).map((d) => d.pkg)).toEqual(['python3-boto3', 'libreoffice-calc-nogui', 'poppler-utils', 'fonts-noto-cjk']);
  });

  it('looks at /usr/bin/python3, not the python3 on PATH', async () => {
    await rm(join(root, 'usr/bin/python3'));
    await put('/bin/python3', '#!/bin/sh\nexit 0\n');
    expect(missingPackages(root, { PATH: join(root, 'bin') })[0]!.pkg).toBe('python3-openpyxl');
  });
});

describe('what the pretest does about it', () => {
  it('plans nothing, an install as root, and the exact command for anyone else', () => {
    const missing = missingPackages(root, env).filter((d) => d.pkg === 'chromium' || d.pkg === 'fonts-noto-cjk');
    expect(planFor([], 0)).toEqual({ action: 'none' });
    expect(planFor(missing, 0)).toEqual({ action: 'install', commands: [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', 'chromium', 'fonts-noto-cjk']] });
    expect(planFor(missing, 1000)).toEqual({ action: 'ask', command: 'sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-noto-cjk' });
  });

  it('as root: apt-get update, then install, non-interactive; then checks again', async () => {
    await put('/usr/bin/apt-get', APT_GET);
    const lines: string[] = [];
    expect(ensureTestDependencies({ root, uid: 0, env, log: (l) => lines.push(l) })).toBe(0);
    expect((await readFile(join(root, 'apt.log'), 'utf8')).trim().split('\n')).toEqual([
      'noninteractive update -qq',
      `noninteractive install -y -qq --no-install-recommends ${ALL.join(' ')}`,
    ]);
    expect(names()).toEqual([]);
    // a second run has nothing to do
    expect(ensureTestDependencies({ root, uid: 0, env, log: (l) => lines.push(l) })).toBe(0);
    expect((await readFile(join(root, 'apt.log'), 'utf8')).trim().split('\n')).toHaveLength(2);
  });

  it('as root: fails when apt-get fails, or installs and something is still missing', async () => {
    await put('/usr/bin/apt-get', '#!/bin/sh\nexit 100\n');
    const lines: string[] = [];
    expect(ensureTestDependencies({ root, uid: 0, env, log: (l) => lines.push(l) })).toBe(1);
    expect(lines.at(-1)).toContain('apt-get update -qq failed (exit 100)');
    await put('/usr/bin/apt-get', '#!/bin/sh\nexit 0\n');
    expect(ensureTestDependencies({ root, uid: 0, env, log: (l) => lines.push(l) })).toBe(1);
    expect(lines.at(-1)).toBe(`still missing after apt-get install: ${ALL.join(' ')}`);
  });

  it('not root: prints the command and exits 1 without calling apt-get', async () => {
    await put('/usr/bin/apt-get', APT_GET);
    const lines: string[] = [];
    expect(ensureTestDependencies({ root, uid: 1000, env, log: (l) => lines.push(l) })).toBe(1);
    expect(lines.join('\n')).toContain(`sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${ALL.join(' ')}`);
    await expect(readFile(join(root, 'apt.log'), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('runs as `npm test` runs it (tsx scripts/test-deps.ts), with its exit code', async () => {
    await writeFile(join(root, 'python-modules'), 'openpyxl\nboto3\n');
    await put('/usr/bin/soffice', '#!/bin/sh\n');
    await put('/usr/bin/pdftotext', '#!/bin/sh\n');
    await put('/usr/bin/pdftoppm', '#!/bin/sh\n');
    await put('/usr/bin/chromium', '#!/bin/sh\n');
    await put(FONT, '', 0o644);
    const { HMIS_CHROMIUM: _, ...rest } = process.env;
    await expect(run(process.execPath, ['--import', 'tsx', 'scripts/test-deps.ts'], { env: { ...rest, HMIS_DEPS_ROOT: root } })).resolves.toBeDefined();
    await rm(join(root, FONT));
    // as root the stand-in apt-get is missing, so it cannot install; as anyone else it asks: exit 1 either way
    await expect(run(process.execPath, ['--import', 'tsx', 'scripts/test-deps.ts'], { env: { ...rest, HMIS_DEPS_ROOT: root } })).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('fonts-noto-cjk') });
  });
});
