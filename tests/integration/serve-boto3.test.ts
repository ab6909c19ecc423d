/**
 * `hmis serve` as a user runs it (a child process), a client that is not ours (Debian's boto3,
 * configured as the banner says) uploading a return, and `hmis status` showing it accepted.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readEndpoints, waitIdle, type StackEndpoints } from '../../functions/adapters/local/stack.ts';
import { CASES } from '../../fixtures/workbooks/cases.ts';
import { caseFile } from '../../fixtures/workbooks/make.ts';

const run = promisify(execFile);
let dir: string;
let serve: ChildProcess;
let endpoints: StackEndpoints;
let output = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hmis-serve-'));
  serve = spawn(process.execPath, ['bin/hmis.mjs', 'serve', '--data-dir', dir, '--s3-port', '0', '--dynamodb-port', '0', '--sns-port', '0', '--portal-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  serve.stdout!.on('data', (d) => (output += d));
  serve.stderr!.on('data', (d) => (output += d));
  const until = Date.now() + 45_000;
  while (!(endpoints = (await readEndpoints(dir))!)) {
    if (Date.now() > until || serve.exitCode !== null) throw new Error(`hmis serve did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 60_000);

afterAll(async () => {
  if (serve.exitCode === null) {
    const exited = new Promise((r) => serve.once('exit', r));
    serve.kill('SIGINT');
    await exited;
  }
  await rm(dir, { recursive: true, force: true });
});

it('names every endpoint in endpoints.json, each on a free port and answering, the portal included', async () => {
  const urls = [endpoints.s3, endpoints.dynamodb, endpoints.sns, endpoints.portal!];
  const ports = urls.map((u) => Number(new URL(u).port));
  for (const p of ports) expect(p).toBeGreaterThan(0);
  expect(ports).not.toContain(8080);
  expect(ports.filter((p) => [4569, 4567, 4575].includes(p))).toEqual([]);
  expect(new Set(ports).size).toBe(4);
  const page = await fetch(`${endpoints.portal}/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('卫生健康统计报表平台');
  expect((await (await fetch(`${endpoints.sns}/_hmis/health`)).json()).service).toBe('hmis-local');
  expect(output).toContain(`报表平台 portal: ${endpoints.portal}/`);
});

it('accepts an upload from boto3 pointed at the printed endpoint; hmis status then shows it', async () => {
  const key = 'uploads/150525/150525-101/T-JC/2025-03/boto3 上传.xlsx';
  const script = `
import sys, boto3
from botocore.config import Config
s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name=sys.argv[2],
                  aws_access_key_id=sys.argv[3], aws_secret_access_key=sys.argv[4],
                  config=Config(s3={'addressing_style': 'path'}))
s3.upload_file(sys.argv[5], sys.argv[6], sys.argv[7])
`;
  const file = caseFile(CASES.find((c) => c.name === 'valid-T-JC')!);
  const e = endpoints;
  // the banner's advice: botocore ≥ 1.36 sends aws-chunked bodies unless told "when_required" (older ones ignore it)
  const env = { ...process.env, AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required', AWS_RESPONSE_CHECKSUM_VALIDATION: 'when_required' };
  await run('/usr/bin/python3', ['-c', script, e.s3, e.region, e.credentials.accessKeyId, e.credentials.secretAccessKey, file, e.buckets.uploads, key], { env });
  await waitIdle(e);
  expect(output).toContain('boto3 上传.xlsx');

  const { stdout } = await run(process.execPath, ['bin/hmis.mjs', 'status', '--county', '150525', '--period', '2025-03', '--json', '--data-dir', dir]);
  const rows = JSON.parse(stdout) as Array<{ institution: string; template: string; status: string; versions: number }>;
  expect(rows.find((r) => r.institution === '150525-101' && r.template === 'T-JC')).toMatchObject({ status: 'accepted', versions: 1 });
  expect(rows.filter((r) => r.status !== 'missing')).toHaveLength(1);
}, 60_000);
