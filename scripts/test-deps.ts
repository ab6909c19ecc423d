/**
 * `npm test`'s pretest: the Debian packages the suite needs besides npm's, found where the tests look
 * for them (absolute paths: a pyenv `python3` on PATH does not count).
 *
 *   python3-openpyxl, python3-boto3   independent reader and client (/usr/bin/python3)
 *   libreoffice-calc-nogui            workbooks must open and convert in LibreOffice (soffice)
 *   poppler-utils                     the PDF LibreOffice draws of the 趋势 sheet, read (pdftotext, pdftoppm)
 *   chromium, fonts-noto-cjk          the portal's end-to-end tests and their screenshots
 *
 * All there: exits 0 at once. Something missing: as root, `apt-get update` then `apt-get install`
 * (DEBIAN_FRONTEND=noninteractive), checks again and exits 0 only if everything is there now;
 * otherwise prints the exact command to run and exits 1.
 *
 * HMIS_DEPS_ROOT (default /) prefixes every path probed and apt-get itself: the tests point it at
 * a directory of stand-ins, so the decisions are tested without installing or removing anything.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Dependency {
  /** the Debian package that provides it */
  pkg: string;
  what: string;
  /** true when it is there, under `root` */
  present(root: string, env: NodeJS.ProcessEnv): boolean;
}

const can = (mode: number) => (file: string): boolean => {
  try {
    accessSync(file, mode);
    return true;
  } catch {
    return false;
  }
};
const executable = can(constants.X_OK);
const readable = can(constants.R_OK);
const at = (root: string, path: string) => join(root, path);
const pythonImports = (root: string, module: string) => spawnSync(at(root, '/usr/bin/python3'), ['-c', `import ${module}`], { stdio: 'ignore', timeout: 30_000 }).status === 0;

/** Where the tests look: tests/integration/*.test.ts (PYTHON, SOFFICE, pdftotext and pdftoppm on PATH's /usr/bin) and tests/e2e/portal.test.ts (CHROMIUM). */
export const DEPENDENCIES: readonly Dependency[] = [
  { pkg: 'python3-openpyxl', what: 'openpyxl for /usr/bin/python3', present: (root) => pythonImports(root, 'openpyxl') },
  { pkg: 'python3-boto3', what: 'boto3 for /usr/bin/python3', present: (root) => pythonImports(root, 'boto3') },
  {
    pkg: 'libreoffice-calc-nogui',
    what: 'LibreOffice (soffice)',
    present: (root) => ['/usr/bin/soffice', '/usr/local/bin/soffice', '/opt/libreoffice/program/soffice'].some((p) => executable(at(root, p))),
  },
  { pkg: 'poppler-utils', what: 'pdftotext and pdftoppm', present: (root) => ['/usr/bin/pdftotext', '/usr/bin/pdftoppm'].every((p) => executable(at(root, p))) },
  { pkg: 'chromium', what: 'Chromium', present: (root, env) => executable(env.HMIS_CHROMIUM ?? at(root, '/usr/bin/chromium')) },
  { pkg: 'fonts-noto-cjk', what: 'CJK fonts (Noto Sans CJK)', present: (root) => readable(at(root, '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc')) },
];

export function missingPackages(root: string, env: NodeJS.ProcessEnv = process.env, deps: readonly Dependency[] = DEPENDENCIES): Dependency[] {
  return deps.filter((d) => !d.present(root, env));
}

export type Plan = { action: 'none' } | { action: 'install'; commands: string[][] } | { action: 'ask'; command: string };

/** What to do about `missing`: nothing, install (root), or tell the user the command (anyone else). */
export function planFor(missing: readonly Dependency[], uid: number | undefined): Plan {
  if (!missing.length) return { action: 'none' };
  const packages = missing.map((d) => d.pkg);
  if (uid === 0) return { action: 'install', commands: [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...packages]] };
  return { action: 'ask', command: `sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${packages.join(' ')}` };
}

export interface RunOptions {
  root?: string;
  uid?: number;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

/** The pretest itself; returns the exit code. */
export function ensureTestDependencies(options: RunOptions = {}): number {
  const env = options.env ?? process.env;
  const root = options.root ?? env.HMIS_DEPS_ROOT ?? '/';
  const log = options.log ?? ((line: string) => console.error(line));
  const missing = missingPackages(root, env);
  const plan = planFor(missing, options.uid ?? process.getuid?.());
  if (plan.action === 'none') return 0;
  const list = missing.map((d) => `  ${d.pkg.padEnd(24)} ${d.what}`).join('\n');
  if (plan.action === 'ask') {
    log(`npm test needs these Debian packages, which are not installed:\n${list}\nInstall them (as root), then run npm test again:\n  ${plan.command}`);
    return 1;
  }
  const aptGet = at(root, '/usr/bin/apt-get');
  if (!executable(aptGet)) {
    log(`npm test needs these Debian packages, and there is no apt-get to install them:\n${list}`);
    return 1;
  }
  log(`npm test: installing the missing Debian packages (apt-get, as root):\n${list}`);
  for (const args of plan.commands) {
    const result = spawnSync(aptGet, args, { stdio: 'inherit', env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (result.status !== 0) {
      log(`apt-get ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
      return 1;
    }
  }
  const still = missingPackages(root, env);
  if (still.length) {
    log(`still missing after apt-get install: ${still.map((d) => d.pkg).join(' ')}`);
    return 1;
  }
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = ensureTestDependencies();
