/**
 * `hmis users add|list|disable|enable|reset`: the people of the user pool, as the portal's 用户管理
 * manages them, and the way to create a deployment's first administrator.
 *
 *   hmis users add --name 张三 --phone 13800000001 --role 填报员 --institution 150525-101 [--by NAME]
 *   hmis users add --name 李四 --phone 13800000002 --role 管理员,审核员 --county 150525
 *   hmis users add --name 王五 --phone 13800000003 --role 查看 --city 1505
 *   hmis users list [--county 150525] [--json]
 *   hmis users disable|enable|reset --phone 13800000001 [--by NAME]
 *
 * Where: the local stack of `--data-dir` (default .hmis), or a deployment with
 * `--user-pool-id <UserPoolId> --table <TableName> --reports-bucket <ReportsBucket>` (the stack's
 * outputs; AWS credentials and AWS_REGION from the environment). Every change is in the audit trail,
 * by `cli:<--by or $USER>`. A new user and a reset print the temporary password to hand over.
 */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { CognitoIdentity } from '../adapters/cognito/identity.ts';
import { DynamoAuditLog } from '../adapters/dynamo/audit.ts';
import { StoredDefinitionsStore } from '../adapters/dynamo/definitions.ts';
import { S3ObjectStore } from '../adapters/s3/objects.ts';
import { auditEvent } from '../core/audit.ts';
import type { Definitions } from '../core/definitions/definitions.ts';
import { StoredDefinitions } from '../core/definitions/source.ts';
import { checkNewPerson, e164, normalizeMobile, parseRole, ROLE_LABELS, scopeOf, temporaryPassword, type Person, type PersonRecord, type Role } from '../core/people.ts';
import { IdentityError, type AuditLog, type IdentityProvider } from '../ports/index.ts';
import { cliActor, parseArgs, requireFlag, stringFlag, UsageError, type ParsedArgs } from './args.ts';
import { DEFAULT_DATA_DIR, openLocal } from './local.ts';

const USAGE = 'hmis users add|list|disable|enable|reset (hmis users --help)';
const WHERE = { 'data-dir': 'string', 'user-pool-id': 'string', table: 'string', 'reports-bucket': 'string', by: 'string' } as const;

export interface PeoplePlace {
  identity: IdentityProvider;
  audit: AuditLog;
  definitions: Definitions;
  close(): Promise<void>;
}

/** The user pool, audit trail and definitions of the local stack or, with --user-pool-id, of a deployment. */
export async function openPeople(args: ParsedArgs): Promise<PeoplePlace> {
  const poolId = stringFlag(args, 'user-pool-id');
  if (poolId) {
    const table = requireFlag(args, 'table');
    const bucket = requireFlag(args, 'reports-bucket');
    const cognito = new CognitoIdentityProviderClient({});
    const dynamodb = new DynamoDBClient({});
    const s3 = new S3Client({});
    // AdminCreateUser and friends need no app client; sign-in is the portal's
    const identity = new CognitoIdentity({ client: cognito, userPoolId: poolId, clientId: 'cli' });
    const definitions = await new StoredDefinitions(new StoredDefinitionsStore(dynamodb, table, new S3ObjectStore(s3), bucket)).latest();
    return {
      identity,
      audit: new DynamoAuditLog(dynamodb, table),
      definitions,
      async close() {
        cognito.destroy();
        dynamodb.destroy();
        s3.destroy();
      },
    };
  }
  const local = await openLocal(stringFlag(args, 'data-dir') ?? DEFAULT_DATA_DIR);
  const pool = local.stack.endpoints.cognito;
  if (!pool || !local.clients.cognito) {
    await local.close();
    throw new UsageError('the local stack has no user pool: restart hmis serve');
  }
  return {
    identity: new CognitoIdentity({ client: local.clients.cognito, ...pool }),
    audit: local.deps.audit,
    definitions: await local.deps.definitions.latest(),
    close: () => local.close(),
  };
}

/** A person of the local user pool named by mobile number, or null (`hmis approve --by`). */
export async function personOf(local: Awaited<ReturnType<typeof openLocal>>, name: string): Promise<PersonRecord | null> {
  const username = normalizeMobile(name);
  if (!username || !local.clients.cognito || !local.stack.endpoints.cognito) return null;
  return new CognitoIdentity({ client: local.clients.cognito, ...local.stack.endpoints.cognito }).getUser(username);
}

export async function run(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  switch (verb) {
    case 'add':
      return add(rest);
    case 'list':
      return list(rest);
    case 'disable':
    case 'enable':
    case 'reset':
      return change(verb, rest);
    default:
      throw new UsageError(verb && verb !== '--help' ? `unknown subcommand ${verb}; ${USAGE}` : USAGE);
  }
}

function describe(defs: Definitions, p: Pick<Person, 'name' | 'username' | 'roles' | 'unit'>): string {
  const unit = defs.institution(p.unit)?.institution.name ?? defs.countiesOf(p.unit)[0]?.city.name ?? p.unit;
  return `${p.name}（${p.username}），${p.roles.map((r) => ROLE_LABELS[r]).join('、')}，${unit}`;
}

async function record(place: PeoplePlace, args: ParsedArgs, person: Pick<Person, 'name' | 'username' | 'roles' | 'unit'>, detail: string): Promise<void> {
  const scope = scopeOf(place.definitions, person);
  await place.audit.append(
    auditEvent(
      { scope: typeof scope === 'string' ? '-' : scope.audit, action: 'user', outcome: 'ok', actor: cliActor(args), ip: null, subject: { username: person.username, institution: person.unit }, detail: `${detail}：${describe(place.definitions, person)}` },
      new Date(),
    ),
  );
}

async function add(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { ...WHERE, name: 'string', phone: 'string', role: 'string', institution: 'string', county: 'string', city: 'string' });
  const roles = requireFlag(args, 'role')
    .split(/[,，、]/)
    .map((r) => r.trim())
    .filter(Boolean)
    .map((r) => {
      const role = parseRole(r);
      if (!role) throw new UsageError(`--role: ${r} is not one of 填报员 (reporter), 审核员 (reviewer), 管理员 (admin), 查看 (viewer)`);
      return role;
    });
  const unit = stringFlag(args, 'institution') ?? (stringFlag(args, 'county') ? `${stringFlag(args, 'county')}-000` : stringFlag(args, 'city'));
  if (!unit) throw new UsageError('--institution (填报员), --county (审核员, 管理员) or --city (查看) is required');
  const username = normalizeMobile(requireFlag(args, 'phone'));
  if (!username) throw new UsageError('--phone must be an 11-digit mobile number');
  const person: Person = { username, name: requireFlag(args, 'name'), phone: e164(username), roles: roles as Role[], unit };
  const place = await openPeople(args);
  try {
    const problems = checkNewPerson(place.definitions, person);
    if (problems.length) {
      console.error(`hmis users add: ${problems.join('；')}`);
      return 1;
    }
    const password = temporaryPassword();
    try {
      await place.identity.createUser(person, password);
    } catch (err) {
      if (err instanceof IdentityError && err.code === 'user-exists') {
        console.error(`hmis users add: 手机号 ${username} 已有账号 (exists)`);
        return 1;
      }
      throw err;
    }
    await record(place, args, person, '新增用户');
    console.log(`已创建 created: ${describe(place.definitions, person)}\n临时密码 temporary password: ${password}\n（首次登录后须修改；${7} 天内有效 · must be changed at first sign-in, valid 7 days）`);
    return 0;
  } finally {
    await place.close();
  }
}

async function list(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { ...WHERE, county: 'string', json: 'boolean' });
  const county = stringFlag(args, 'county');
  const place = await openPeople(args);
  try {
    const users = (await place.identity.listUsers()).filter((u) => !county || u.unit.startsWith(`${county}-`)).sort((a, b) => a.unit.localeCompare(b.unit) || a.username.localeCompare(b.username));
    if (args.flags.json) {
      console.log(JSON.stringify(users, null, 2));
      return 0;
    }
    const status = (u: PersonRecord) => (!u.enabled ? '已停用' : u.status === 'FORCE_CHANGE_PASSWORD' ? '待首次登录' : '正常');
    console.log('手机号        姓名      角色            单位                      状态');
    for (const u of users) console.log(`${u.username}  ${u.name.padEnd(6, '　')}  ${u.roles.map((r) => ROLE_LABELS[r]).join('、').padEnd(8, '　')}  ${u.unit.padEnd(10)} ${(place.definitions.institution(u.unit)?.institution.name ?? '').padEnd(12, '　')}  ${status(u)}`);
    console.log(`共 ${users.length} 个账号`);
    return 0;
  } finally {
    await place.close();
  }
}

async function change(verb: 'disable' | 'enable' | 'reset', argv: string[]): Promise<number> {
  const args = parseArgs(argv, { ...WHERE, phone: 'string' });
  const username = normalizeMobile(requireFlag(args, 'phone'));
  if (!username) throw new UsageError('--phone must be an 11-digit mobile number');
  const place = await openPeople(args);
  try {
    const person = await place.identity.getUser(username);
    if (!person) {
      console.error(`hmis users ${verb}: 没有该账号 no such user ${username}`);
      return 1;
    }
    if (verb === 'reset') {
      const password = temporaryPassword();
      await place.identity.resetPassword(username, password);
      await record(place, args, person, '重置密码');
      console.log(`已重置 reset: ${describe(place.definitions, person)}\n临时密码 temporary password: ${password}`);
    } else {
      await place.identity.setEnabled(username, verb === 'enable');
      await record(place, args, person, verb === 'enable' ? '启用用户' : '停用用户');
      console.log(`${verb === 'enable' ? '已启用 enabled' : '已停用 disabled（其登录已失效 its sessions ended）'}: ${describe(place.definitions, person)}`);
    }
    return 0;
  } finally {
    await place.close();
  }
}
