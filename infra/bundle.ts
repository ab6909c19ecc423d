/**
 * How a Lambda function's code is built: one esbuild bundle per handler (ESM, Node 24, minified, the
 * AWS SDK included: the versions the tests ran, not whatever the runtime ships), plus one rule.
 *
 * Late modules: code a cold start never runs is not in `index.mjs`. A dynamic `import()` of one of
 * LATE_MODULES becomes its own file beside `index.mjs` (bundled alone, with what it needs), loaded
 * when the code first reaches it. V8 parses all of a file before any of it runs, so each kilobyte left
 * out of `index.mjs` is time off every cold start (issue 17: the ingest bundle's import). The modules
 * are leaves that share no state with the rest, so their own copies of shared helpers do no harm.
 *
 * The CDK stack runs this at synth (`tsx infra/bundle.ts <handler> <outdir>`, from
 * infra/constructs/defaults.ts); bench/bundle.ts imports `bundleFunction` and measures what it builds.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';

/** The repository root: the handlers and the packages they import are found from here. */
export const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const handlerEntry = (name: string) => join(PROJECT_ROOT, 'functions', 'handlers', `${name}.ts`);

/** Dynamic imports that become their own file, with why a cold start does not need them. */
export const LATE_MODULES: ReadonlyArray<{ path: RegExp; why: string }> = [
  { path: /functions\/core\/render\/feedback\.ts$/, why: 'the marked-up workbook of a rejected upload (exceljs and its zip libraries)' },
  { path: /functions\/adapters\/sns\/alerter\.ts$/, why: 'the SNS client: most uploads are accepted and alert nobody' },
  {
    path: /node_modules\/(?:@aws-sdk\/credential-provider-(?:ini|sso|process|web-identity|http|login)|@smithy\/credential-provider-imds)\//,
    why: 'credentials from files, SSO, web identity or a metadata service: in Lambda they are in the environment',
  },
  { path: /node_modules\/bowser\//, why: "parses a browser's user agent: the SDK only loads it in a browser" },
];

/** What every file gets: ESM needs `require` for the CommonJS dependencies (exceljs and its zip libraries). */
export const BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  mainFields: ['module', 'main'],
  minify: true,
  keepNames: true,
  sourcemap: false,
  banner: { js: "import { createRequire as __hmisRequire } from 'node:module'; const require = __hmisRequire(import.meta.url);" },
  logLevel: 'error',
} as const satisfies BuildOptions;

export interface BundledFile {
  /** file name in the output directory: `index.mjs`, or a late module's */
  name: string;
  bytes: number;
  metafile: Metafile;
}

/** `index.mjs` first, then the late modules' files. */
export interface BundledFunction {
  dir: string;
  files: BundledFile[];
}

/** A late module's file name, from its path: node_modules/@aws-sdk/credential-provider-ini/dist-es/index.js → aws-sdk-credential-provider-ini.mjs */
function lateFileName(path: string): string {
  const slug = relative(PROJECT_ROOT, path)
    .replace(/^.*node_modules\//, '')
    .replace(/\/dist-[a-z]+\//, '/')
    .replace(/(?:\/index)?\.[cm]?[jt]s$/, '')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return `${slug}.mjs`;
}

/**
 * Bundles `entry` (or `stdin` code resolved from the project root) into `outdir`/index.mjs, and each
 * late module it reaches, however deep, into its own file there.
 */
export async function bundleFunction(entry: string | { stdin: string }, outdir: string): Promise<BundledFunction> {
  mkdirSync(outdir, { recursive: true });
  const late = new Map<string, string>(); // absolute path → file name
  const pending: string[] = [];
  const lateModules: Plugin = {
    name: 'late-modules',
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind !== 'dynamic-import' || args.pluginData === 'resolving') return undefined;
        const resolved = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'resolving' });
        if (resolved.errors.length || resolved.external || !LATE_MODULES.some((m) => m.path.test(resolved.path))) return undefined;
        let name = late.get(resolved.path);
        if (!name) {
          name = lateFileName(resolved.path);
          late.set(resolved.path, name);
          pending.push(resolved.path);
        }
        return { path: `./${name}`, external: true };
      });
    },
  };
  const one = async (input: BuildOptions, name: string): Promise<BundledFile> => {
    const outfile = join(outdir, name);
    const result = await build({ ...BUNDLE_OPTIONS, ...input, outfile, metafile: true, plugins: [lateModules] });
    return { name, bytes: statSync(outfile).size, metafile: result.metafile };
  };
  const files = [
    await one(typeof entry === 'string' ? { entryPoints: [entry] } : { stdin: { contents: entry.stdin, resolveDir: PROJECT_ROOT, sourcefile: 'stdin.ts', loader: 'ts' } }, 'index.mjs'),
  ];
  for (let path = pending.shift(); path; path = pending.shift()) files.push(await one({ entryPoints: [path] }, late.get(path)!));
  return { dir: outdir, files };
}

// at synth: `tsx infra/bundle.ts <handler> <outdir>`
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [handler, outdir] = process.argv.slice(2);
  if (!handler || !outdir) throw new Error('usage: tsx infra/bundle.ts <handler> <outdir>');
  await bundleFunction(handlerEntry(handler), outdir);
}
