// The stack's permissions, proven by an IAM policy simulator nobody here wrote
// (@cloud-copilot/iam-simulate, which models condition operators and multivalued keys): the
// synthesized templates of both stages, their intrinsic functions resolved as CloudFormation
// would in one account, and every request below evaluated against the function's role and each
// tenant's reader policy. Each grant is allowed on exactly its resource; each near miss is denied.
//
// A new grant is one entry of GRANTS (and, for the vault, one row of the grants table in
// docs/items.md); a new way to get one wrong is one entry of NEAR_MISSES. A policy that allows
// something no GRANTS entry names fails the completeness test.
//
// Where the simulator cannot decide a request (it ignores the kms:EncryptionContext:<key>
// context keys), the case names the key in `undecided`: the test checks that the simulator
// really ignores it, and the statement-level test at the end covers those cases instead.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { isConditionKeyArray, runSimulation, typeForContextKey } from '@cloud-copilot/iam-simulate';
import { Stack } from 'aws-cdk-lib';
import { ITEMS_BY_ITEM_INDEX } from '../../infra/items-vault.ts';
import { EVENT_SOURCES } from '../../lambda/config/events.ts';
import { PROJECT_ROOT } from '../../infra/lambda-bundling.ts';
import { resolveStage } from '../../infra/stages.ts';
import { WEBHOOK_EVENT_SOURCE } from '../../infra/webhooks.ts';
import { TEST_TARGET, TemplateResolver } from '../support/resolve-template.ts';
import { synthesize, type Synthesized } from './synth.ts';

// The function's code does not change a policy: skip CDK's bundling to keep this quick.
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

type Verdict = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';
type Context = Record<string, string | string[]>;
type Who = 'function' | 'reader';

/** The resources of one stage a request can name, resolved to ARNs. */
interface Resources {
  readonly table: string;
  readonly index: string;
  readonly key: string;
  readonly bus: string;
  readonly logStream: string;
  /** Every secret the stage's tenants file names, as the ARN Secrets Manager would give it. */
  readonly secrets: readonly string[];
  /** A table, index, key, bus and log group of the same account that are not the stack's. */
  readonly other: { table: string; index: string; key: string; bus: string; logStream: string; secret: string };
}
type Kind = 'table' | 'index' | 'key' | 'bus' | 'logStream' | 'secret';

/** The request a case makes, for one tenant where the principal is a reader. */
interface Request {
  readonly action: string;
  readonly resource: string;
  readonly context: Context;
}

interface Grant {
  readonly who: Who;
  readonly action: string;
  readonly on: Kind;
  /** Context the request carries (what the service puts in it), for `tenant` when a reader. */
  readonly context?: (tenant: string, r: Resources) => Context;
  /** The context key the simulator ignores and on which the verdict depends. */
  readonly undecided?: string;
}

/** Everything each principal may do, one entry per grant (vault rows: docs/items.md). */
const GRANTS: readonly Grant[] = [
  // The function writes its own log group only.
  { who: 'function', action: 'logs:CreateLogStream', on: 'logStream' },
  { who: 'function', action: 'logs:PutLogEvents', on: 'logStream' },
  // It reads the secrets the tenants file names (each Plaid secret and the client_user_id key).
  { who: 'function', action: 'secretsmanager:GetSecretValue', on: 'secret' },
  // The vault, as the grants table of docs/items.md lists it.
  { who: 'function', action: 'dynamodb:GetItem', on: 'table' },
  { who: 'function', action: 'dynamodb:PutItem', on: 'table' },
  { who: 'function', action: 'dynamodb:UpdateItem', on: 'table' },
  { who: 'function', action: 'dynamodb:DeleteItem', on: 'table' },
  { who: 'function', action: 'dynamodb:Query', on: 'table' },
  { who: 'function', action: 'dynamodb:Query', on: 'index' },
  { who: 'function', action: 'kms:Encrypt', on: 'key' },
  { who: 'function', action: 'kms:Decrypt', on: 'key' },
  // Verified webhooks, as the service's own source only.
  {
    who: 'function',
    action: 'events:PutEvents',
    on: 'bus',
    context: () => ({ 'events:source': [WEBHOOK_EVENT_SOURCE] }),
  },
  // The service's own Item and user lifecycle events, alone or together in one call.
  {
    who: 'function',
    action: 'events:PutEvents',
    on: 'bus',
    context: () => ({ 'events:source': [EVENT_SOURCES.item_lifecycle] }),
  },
  {
    who: 'function',
    action: 'events:PutEvents',
    on: 'bus',
    context: () => ({ 'events:source': [EVENT_SOURCES.item_lifecycle, EVENT_SOURCES.user_lifecycle] }),
  },
  // Each tenant's reader: its own partitions, on the table and on the by-item index.
  {
    who: 'reader',
    action: 'dynamodb:GetItem',
    on: 'table',
    context: (t) => ({ 'dynamodb:LeadingKeys': [`${t}#user-1`] }),
  },
  {
    who: 'reader',
    action: 'dynamodb:Query',
    on: 'table',
    context: (t) => ({ 'dynamodb:LeadingKeys': [`${t}#user-1`] }),
  },
  {
    who: 'reader',
    action: 'dynamodb:Query',
    on: 'index',
    context: (t) => ({ 'dynamodb:LeadingKeys': [`${t}#item-1`] }),
  },
  // Its own tokens (encryption context names the tenant), and DynamoDB opening the table for it.
  {
    who: 'reader',
    action: 'kms:Decrypt',
    on: 'key',
    context: (t) => tokenContext(t),
    undecided: 'kms:EncryptionContext:tenant_id',
  },
  {
    who: 'reader',
    action: 'kms:Decrypt',
    on: 'key',
    context: (_, r) => throughDynamoDB(r),
    undecided: 'kms:EncryptionContext:aws:dynamodb:tableName',
  },
];

interface NearMiss {
  readonly who: Who;
  readonly name: string;
  readonly request: (tenant: string, r: Resources, s: StageUnderTest) => Request;
  readonly undecided?: string;
}

const tokenContext = (tenant: string): Context => ({
  'kms:EncryptionContext:tenant_id': tenant,
  'kms:EncryptionContext:client_user_id': 'user-1',
  'kms:EncryptionContext:item_id': 'item-1',
});
const throughDynamoDB = (r: Resources): Context => ({
  'kms:ViaService': `dynamodb.${TEST_TARGET.region}.amazonaws.com`,
  'kms:EncryptionContext:aws:dynamodb:tableName': r.table.split('/').pop()!,
});
const own = (tenant: string) => ({ 'dynamodb:LeadingKeys': [`${tenant}#user-1`] });

/** Requests that must be denied: a wrong resource, action or condition value, one each. */
const NEAR_MISSES: readonly NearMiss[] = [
  // The bus: only this bus, only this source, every entry of a PutEvents call.
  {
    who: 'function',
    name: 'PutEvents on another bus',
    request: (_, r) => ({
      action: 'events:PutEvents',
      resource: r.other.bus,
      context: { 'events:source': [WEBHOOK_EVENT_SOURCE] },
    }),
  },
  {
    who: 'function',
    name: 'PutEvents as another source',
    request: (_, r) => ({
      action: 'events:PutEvents',
      resource: r.bus,
      context: { 'events:source': ['aws.partner/plaid'] },
    }),
  },
  {
    who: 'function',
    name: 'PutEvents with entries of the service and of another source',
    request: (_, r) => ({
      action: 'events:PutEvents',
      resource: r.bus,
      context: { 'events:source': [WEBHOOK_EVENT_SOURCE, 'link-token-service.admin'] },
    }),
  },
  {
    who: 'function',
    name: 'PutEvents with no source in the request',
    request: (_, r) => ({ action: 'events:PutEvents', resource: r.bus, context: {} }),
  },
  // The vault's table: the operations the items code performs, nothing across users.
  {
    who: 'function',
    name: 'Scan the table',
    request: (_, r) => ({ action: 'dynamodb:Scan', resource: r.table, context: {} }),
  },
  {
    who: 'function',
    name: 'BatchWriteItem on the table',
    request: (_, r) => ({ action: 'dynamodb:BatchWriteItem', resource: r.table, context: {} }),
  },
  {
    who: 'function',
    name: 'BatchGetItem on the table',
    request: (_, r) => ({ action: 'dynamodb:BatchGetItem', resource: r.table, context: {} }),
  },
  {
    who: 'function',
    name: 'PartiQL select on the table',
    request: (_, r) => ({ action: 'dynamodb:PartiQLSelect', resource: r.table, context: {} }),
  },
  {
    who: 'function',
    name: 'DeleteTable',
    request: (_, r) => ({ action: 'dynamodb:DeleteTable', resource: r.table, context: {} }),
  },
  // The vault key: Encrypt and Decrypt only.
  {
    who: 'function',
    name: 'kms:CreateGrant on the vault key',
    request: (_, r) => ({ action: 'kms:CreateGrant', resource: r.key, context: {} }),
  },
  {
    who: 'function',
    name: 'kms:ScheduleKeyDeletion on the vault key',
    request: (_, r) => ({ action: 'kms:ScheduleKeyDeletion', resource: r.key, context: {} }),
  },
  {
    who: 'function',
    name: 'kms:GenerateDataKey on the vault key',
    request: (_, r) => ({ action: 'kms:GenerateDataKey', resource: r.key, context: {} }),
  },
  {
    who: 'function',
    name: 'kms:PutKeyPolicy on the vault key',
    request: (_, r) => ({ action: 'kms:PutKeyPolicy', resource: r.key, context: {} }),
  },
  // Secrets: read only, and only the ones the tenants file names.
  {
    who: 'function',
    name: 'GetSecretValue of a secret the tenants file does not name',
    request: (_, r) => ({ action: 'secretsmanager:GetSecretValue', resource: r.other.secret, context: {} }),
  },
  {
    who: 'function',
    name: 'GetSecretValue of a look-alike of a named secret (its name plus a suffix)',
    request: (_, r) => ({
      action: 'secretsmanager:GetSecretValue',
      resource: r.secrets[0]!.replace(/-[A-Za-z0-9]{6}$/, '-extra-Ab12Cd'),
      context: {},
    }),
  },
  {
    who: 'function',
    name: 'PutSecretValue of a named secret',
    request: (_, r) => ({ action: 'secretsmanager:PutSecretValue', resource: r.secrets[0]!, context: {} }),
  },
  // Reader: its own partitions only.
  {
    who: 'reader',
    name: "GetItem of another tenant's record",
    request: (t, r, s) => ({
      action: 'dynamodb:GetItem',
      resource: r.table,
      context: { 'dynamodb:LeadingKeys': [`${s.otherTenant(t)}#user-1`] },
    }),
  },
  {
    who: 'reader',
    name: 'GetItem under a prefix look-alike of the tenant (<tenant>-x#…)',
    request: (t, r) => ({
      action: 'dynamodb:GetItem',
      resource: r.table,
      context: { 'dynamodb:LeadingKeys': [`${t}-x#user-1`] },
    }),
  },
  {
    who: 'reader',
    name: 'GetItem of the tenant id without its separator',
    request: (t, r) => ({ action: 'dynamodb:GetItem', resource: r.table, context: { 'dynamodb:LeadingKeys': [t] } }),
  },
  {
    who: 'reader',
    name: "Query naming its own and another tenant's partition",
    request: (t, r, s) => ({
      action: 'dynamodb:Query',
      resource: r.table,
      context: { 'dynamodb:LeadingKeys': [`${t}#user-1`, `${s.otherTenant(t)}#user-1`] },
    }),
  },
  {
    who: 'reader',
    name: 'GetItem with no leading key in the request',
    request: (_, r) => ({ action: 'dynamodb:GetItem', resource: r.table, context: {} }),
  },
  {
    who: 'reader',
    name: "Query of the by-item index under another tenant's prefix",
    request: (t, r, s) => ({
      action: 'dynamodb:Query',
      resource: r.index,
      context: { 'dynamodb:LeadingKeys': [`${s.otherTenant(t)}#item-1`] },
    }),
  },
  {
    who: 'reader',
    name: 'Scan the table',
    request: (_, r) => ({ action: 'dynamodb:Scan', resource: r.table, context: {} }),
  },
  {
    who: 'reader',
    name: 'BatchGetItem on the table',
    request: (t, r) => ({ action: 'dynamodb:BatchGetItem', resource: r.table, context: own(t) }),
  },
  {
    who: 'reader',
    name: 'PutItem in its own partition',
    request: (t, r) => ({ action: 'dynamodb:PutItem', resource: r.table, context: own(t) }),
  },
  {
    who: 'reader',
    name: 'GetItem on another table',
    request: (t, r) => ({ action: 'dynamodb:GetItem', resource: r.other.table, context: own(t) }),
  },
  // Reader: decrypt only its own tokens, or through DynamoDB for this table.
  {
    who: 'reader',
    name: "Decrypt a token under another tenant's encryption context",
    request: (t, r, s) => ({ action: 'kms:Decrypt', resource: r.key, context: tokenContext(s.otherTenant(t)) }),
    undecided: 'kms:EncryptionContext:tenant_id',
  },
  {
    who: 'reader',
    name: 'Decrypt with no encryption context, not through DynamoDB',
    request: (_, r) => ({ action: 'kms:Decrypt', resource: r.key, context: {} }),
  },
  {
    who: 'reader',
    name: 'Decrypt through another service (Secrets Manager)',
    request: (_, r) => ({
      action: 'kms:Decrypt',
      resource: r.key,
      context: { 'kms:ViaService': `secretsmanager.${TEST_TARGET.region}.amazonaws.com` },
    }),
  },
  {
    who: 'reader',
    name: 'Encrypt with the vault key',
    request: (_, r) => ({ action: 'kms:Encrypt', resource: r.key, context: {} }),
  },
  {
    who: 'reader',
    name: 'kms:CreateGrant on the vault key',
    request: (_, r) => ({ action: 'kms:CreateGrant', resource: r.key, context: {} }),
  },
  {
    who: 'reader',
    name: 'Decrypt under its own context with another key',
    request: (t, r) => ({ action: 'kms:Decrypt', resource: r.other.key, context: tokenContext(t) }),
    undecided: 'kms:EncryptionContext:tenant_id',
  },
];

/** The same kind of resource outside the stack (Resources.other). */
const OTHER_LABEL: Record<Kind, string> = {
  table: 'another table',
  index: 'an index of another table',
  key: 'another key',
  bus: 'another bus (the default one)',
  logStream: 'a stream of another log group',
  secret: 'a secret the tenants file does not name',
};

const KIND_LABEL: Record<Kind, string> = {
  table: 'the table',
  index: `the \`${ITEMS_BY_ITEM_INDEX}\` index`,
  key: 'the vault key',
  bus: 'the bus',
  logStream: "a stream of the function's log group",
  secret: 'a secret the tenants file names',
};

interface StageUnderTest {
  readonly name: string;
  readonly s: Synthesized;
  readonly resolver: TemplateResolver;
  readonly r: Resources;
  readonly functionRole: { arn: string; policies: { name: string; policy: any }[] };
  readonly readers: ReadonlyMap<string, { name: string; policy: any }>;
  readonly keyPolicy: any;
  readonly tenants: readonly string[];
  otherTenant(tenant: string): string;
}

function stageUnderTest(name: string, s: Synthesized): StageUnderTest {
  const stack = Stack.of(s.stack);
  const id = (c: any) => stack.getLogicalId(c.node.defaultChild);
  const resolver = new TemplateResolver(s.json, { ...TEST_TARGET, stackName: s.stack.stackName });
  const table = resolver.getAtt(id(s.stack.vault.table), 'Arn');
  const roleId = id(s.stack.linkToken.function.role!);
  const { tenantsFilePath } = resolveStage((key) => s.stack.node.tryGetContext(key));
  const tenantsFile = JSON.parse(readFileSync(tenantsFilePath, 'utf8'));
  const tenants = Object.keys(tenantsFile.tenants);
  // The ARN each secret the tenants file names has in the account: the stack's own secret (dev
  // creates them), the ARN as written, or the name with the suffix Secrets Manager appends.
  const secretIds: string[] = [
    tenantsFile.client_user_id_key_secret_id,
    ...Object.values<any>(tenantsFile.tenants).map((t) => t.plaid.secret_id),
  ];
  const secrets = secretIds.map((secretId) => {
    const created = Object.entries(s.json.Resources).find(
      ([, r]) => r.Type === 'AWS::SecretsManager::Secret' && r.Properties.Name === secretId,
    );
    if (created) return resolver.ref(created[0]);
    if (!secretId.startsWith('arn:'))
      return `arn:aws:secretsmanager:${TEST_TARGET.region}:${TEST_TARGET.account}:secret:${secretId}-Ab12Cd`;
    return /-[A-Za-z0-9]{6}$/.test(secretId) ? secretId : `${secretId}-Ab12Cd`;
  });
  const logGroup = resolver.getAtt(id(s.stack.linkToken.logGroup), 'Arn').replace(/:\*$/, '');
  const arn = (service: string, rest: string) =>
    `arn:aws:${service}:${TEST_TARGET.region}:${TEST_TARGET.account}:${rest}`;
  const r: Resources = {
    table,
    index: `${table}/index/${ITEMS_BY_ITEM_INDEX}`,
    key: resolver.getAtt(id(s.stack.vault.key), 'Arn'),
    bus: resolver.getAtt(id(s.stack.webhooks.bus), 'Arn'),
    logStream: `${logGroup}:log-stream:2026/12/01/[$LATEST]0123456789abcdef`,
    secrets,
    other: {
      table: arn('dynamodb', 'table/another-table'),
      index: arn('dynamodb', `table/another-table/index/${ITEMS_BY_ITEM_INDEX}`),
      key: arn('kms', 'key/00000000-1111-4222-8333-444444444444'),
      bus: arn('events', 'event-bus/default'),
      logStream: arn('logs', 'log-group:/aws/lambda/another-function:log-stream:2026/12/01/[$LATEST]0123456789abcdef'),
      secret: arn('secretsmanager', `secret:link-token/${name}/plaid/not-a-tenant-Ab12Cd`),
    },
  };
  const policiesOf = (type: string, match: (p: any) => boolean) =>
    Object.entries(s.json.Resources)
      .filter(([, res]) => res.Type === type && match(res.Properties))
      .map(([logicalId, res]) => ({ name: logicalId, policy: resolver.resolve(res.Properties.PolicyDocument) }));
  const readers = new Map(
    tenants.map((tenant) => {
      const [reader, ...more] = policiesOf('AWS::IAM::ManagedPolicy', (p) =>
        p.Description?.startsWith(`Read tenant ${tenant}'s `),
      );
      assert.ok(reader && more.length === 0, `one reader policy for ${tenant}`);
      return [tenant, reader] as const;
    }),
  );
  return {
    name,
    s,
    resolver,
    r,
    functionRole: {
      arn: resolver.getAtt(roleId, 'Arn'),
      policies: policiesOf('AWS::IAM::Policy', (p) => p.Roles.some((role: any) => role.Ref === roleId)),
    },
    readers,
    keyPolicy: resolver.resolve(s.json.Resources[id(s.stack.vault.key)]!.Properties.KeyPolicy),
    tenants,
    otherTenant: (tenant) => tenants.find((t) => t !== tenant) ?? 'other-tenant',
  };
}

interface Outcome {
  readonly verdict: Verdict;
  readonly ignoredContextKeys: readonly string[];
  /** Whether some identity statement matches the action and resource, so conditions decide. */
  readonly restsOnConditions: boolean;
}

async function simulate(st: StageUnderTest, who: Who, tenant: string, request: Request): Promise<Outcome> {
  const principal =
    who === 'function' ? st.functionRole.arn : `arn:aws:iam::${TEST_TARGET.account}:role/${tenant}-backend`;
  const identityPolicies = who === 'function' ? st.functionRole.policies : [st.readers.get(tenant)!];
  const result = await runSimulation(
    {
      request: {
        principal,
        action: request.action,
        resource: { resource: request.resource, accountId: TEST_TARGET.account },
        contextVariables: request.context,
      },
      identityPolicies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      // KMS asks the key policy first: the vault key's must delegate to IAM for any grant to work.
      resourcePolicy: request.resource === st.r.key ? st.keyPolicy : undefined,
    },
    {},
  );
  if (result.resultType === 'error') {
    throw new Error(`The simulator refused ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`);
  }
  if (result.resultType !== 'single')
    throw new Error(`Expected one result for ${request.resource}, got ${result.resultType}`);
  const identity = result.result.analysis?.identityAnalysis;
  const statements = [
    ...(identity?.allowStatements ?? []),
    ...(identity?.denyStatements ?? []),
    ...(identity?.unmatchedStatements ?? []),
  ];
  return {
    verdict: result.overallResult,
    ignoredContextKeys: result.result.ignoredContextKeys ?? [],
    restsOnConditions: statements.some((st: any) => st.actionMatch && st.resourceMatch),
  };
}

interface Case {
  readonly who: Who;
  readonly tenant: string;
  readonly label: string;
  readonly request: Request;
  readonly expect: 'Allowed' | 'Denied';
  readonly undecided?: string;
}

const resourceOf = (r: Resources, kind: Kind): string[] => (kind === 'secret' ? [...r.secrets] : [r[kind]]);
const otherOf = (r: Resources, kind: Kind): string => r.other[kind];
const serviceOf = (arn: string) => arn.split(':')[2];

/** Every case of a stage: each grant allowed on its resource and denied elsewhere, then the near misses. */
function casesOf(st: StageUnderTest): Case[] {
  const cases: Case[] = [];
  const subjects = (who: Who) => (who === 'function' ? [''] : st.tenants);
  const kinds = Object.keys(KIND_LABEL) as Kind[];
  for (const grant of GRANTS) {
    for (const tenant of subjects(grant.who)) {
      const context = grant.context?.(tenant, st.r) ?? {};
      const head = `${grant.action}`;
      for (const resource of resourceOf(st.r, grant.on)) {
        cases.push({
          who: grant.who,
          tenant,
          label: `${head} on ${KIND_LABEL[grant.on]}${grant.on === 'secret' ? ` (${resource.split(':secret:')[1]})` : ''}`,
          request: { action: grant.action, resource, context },
          expect: 'Allowed',
          undecided: grant.undecided,
        });
      }
      // Exactly its resource: not the same kind of resource outside the stack...
      cases.push({
        who: grant.who,
        tenant,
        label: `${head} on ${OTHER_LABEL[grant.on]}`,
        request: { action: grant.action, resource: otherOf(st.r, grant.on), context },
        expect: 'Denied',
        undecided: grant.undecided,
      });
      // ...nor the stack's other resources of that service it has no grant on.
      for (const kind of kinds) {
        const sameService = serviceOf(resourceOf(st.r, kind)[0]!) === serviceOf(resourceOf(st.r, grant.on)[0]!);
        const granted = GRANTS.some((g) => g.who === grant.who && g.action === grant.action && g.on === kind);
        if (kind === grant.on || !sameService || granted) continue;
        cases.push({
          who: grant.who,
          tenant,
          label: `${head} on ${KIND_LABEL[kind]}`,
          request: { action: grant.action, resource: resourceOf(st.r, kind)[0]!, context },
          expect: 'Denied',
          undecided: grant.undecided,
        });
      }
    }
  }
  for (const miss of NEAR_MISSES) {
    for (const tenant of subjects(miss.who)) {
      cases.push({
        who: miss.who,
        tenant,
        label: miss.name,
        request: miss.request(tenant, st.r, st),
        expect: 'Denied',
        undecided: miss.undecided,
      });
    }
  }
  return cases;
}

/** Does an IAM resource pattern (with * and ?) match this ARN? */
function matches(pattern: string, arn: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return regex.test(arn);
}

let stages: StageUnderTest[];
const verdictRows: string[] = [];

before(() => {
  stages = [
    stageUnderTest('dev', synthesize({ ...NO_BUNDLING, stage: 'dev' })),
    stageUnderTest('prod', synthesize({ ...NO_BUNDLING, stage: 'prod' })),
  ];
});

describe('the policy simulator', () => {
  for (const stageName of ['dev', 'prod']) {
    test(`${stageName}: every grant is allowed on exactly its resource, and every near miss is denied`, async (t) => {
      const st = stages.find((x) => x.name === stageName)!;
      const wrong: string[] = [];
      let decided = 0;
      for (const c of casesOf(st)) {
        const who = c.who === 'function' ? 'function' : `reader ${c.tenant}`;
        const { verdict, ignoredContextKeys, restsOnConditions } = await simulate(st, c.who, c.tenant, c.request);
        const context = Object.entries(c.request.context)
          .map(([k, v]) => `${k}=${[v].flat().join(',') || '∅'}`)
          .join(' ');
        const row = (shown: string) =>
          verdictRows.push(
            `| ${stageName} | ${who} | ${c.label}${context ? ` (${context})` : ''} | ${c.expect} | ${shown} |`,
          );
        if (c.undecided && !ignoredContextKeys.includes(c.undecided)) {
          wrong.push(`${who}: ${c.label}: the simulator now reads ${c.undecided}; drop \`undecided\` from this case`);
        }
        // The simulator drops this key from the request: where the verdict rests on a condition
        // it says nothing, and the statement-level test below covers the case. A denial where no
        // statement even matches the action and resource is decided all the same.
        if (c.undecided !== undefined && (c.expect === 'Allowed' || restsOnConditions)) {
          row(`not decided (${c.undecided} ignored): statement-level test`);
          continue;
        }
        decided++;
        row(verdict);
        const ok = c.expect === 'Allowed' ? verdict === 'Allowed' : verdict !== 'Allowed';
        if (!ok) wrong.push(`${who}: ${c.label} → ${verdict}, expected ${c.expect}`);
        // A case whose context the simulator silently drops would be judged on less than it says
        // (unless no statement matches its action and resource, when conditions do not matter).
        const ignored = restsOnConditions ? ignoredContextKeys.filter((k) => k in c.request.context) : [];
        if (ignored.length > 0) wrong.push(`${who}: ${c.label}: the simulator ignored ${ignored.join(', ')}`);
      }
      t.diagnostic(`${decided} requests decided by the simulator on ${stageName}`);
      assert.deepEqual(wrong, []);
    });
  }

  test('nothing is allowed that no GRANTS entry names: every Allow of the role and the reader policies is covered', () => {
    const uncovered: string[] = [];
    for (const st of stages) {
      const documents = [
        ...st.functionRole.policies.map((p) => ({ who: 'function', tenants: [''], policy: p.policy })),
        ...[...st.readers].map(([tenant, p]) => ({ who: 'reader', tenants: [tenant], policy: p.policy })),
      ];
      for (const { who, policy } of documents) {
        for (const statement of [policy.Statement].flat()) {
          assert.ok(!('NotAction' in statement) && !('NotResource' in statement), 'no NotAction or NotResource');
          if (statement.Effect !== 'Allow') continue;
          for (const action of [statement.Action].flat()) {
            for (const pattern of [statement.Resource].flat()) {
              const covered = GRANTS.some(
                (g) =>
                  g.who === who && g.action === action && resourceOf(st.r, g.on).some((arn) => matches(pattern, arn)),
              );
              if (!covered) uncovered.push(`${st.name} ${who}: ${action} on ${pattern}`);
            }
          }
        }
      }
    }
    assert.deepEqual(uncovered, [], 'each of these needs an entry in GRANTS (and its near misses)');
  });

  test("the function's vault grants are the grants table of docs/items.md, row for row", () => {
    const page = readFileSync(join(PROJECT_ROOT, 'docs', 'items.md'), 'utf8');
    const section = page.split('## IAM grants of the function for the vault')[1]!.split('\n## ')[0]!;
    const rows = section
      .split('\n')
      .filter((line) => /^\| `[a-z]+:\w+` \|/.test(line))
      .map((line) => {
        const [action, resource] = line
          .split('|')
          .slice(1, 3)
          .map((cell) => cell.trim());
        return `${action!.replaceAll('`', '')} on ${resource}`;
      });
    const vaultKinds: Kind[] = ['table', 'index', 'key'];
    const grants = GRANTS.filter((g) => g.who === 'function' && vaultKinds.includes(g.on)).map(
      (g) => `${g.action} on ${KIND_LABEL[g.on]}`,
    );
    assert.deepEqual(rows, grants);
  });

  test('writes the verdict table', () => {
    // Written for the reader of a change (test-artifacts/ is not committed): request → expected → verdict.
    const dir = join(PROJECT_ROOT, 'test-artifacts');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'iam-simulation.md'),
      [
        '| stage | principal | request | expected | verdict |',
        '| --- | --- | --- | --- | --- |',
        ...verdictRows,
        '',
      ].join('\n'),
    );
    assert.ok(verdictRows.length > 0);
  });
});

describe('every condition of the stack', () => {
  /** Every policy document in a template: identity policies, trust policies, key and topic policies. */
  const documentsOf = (s: Synthesized) =>
    Object.entries(s.json.Resources).flatMap(([id, r]) => {
      const p = r.Properties ?? {};
      return [p.PolicyDocument, p.AssumeRolePolicyDocument, p.KeyPolicy]
        .filter((d) => d !== undefined)
        .map((d) => ({ where: `${r.Type} ${id}`, document: d }));
    });

  test('a multivalued key is tested with a set operator, and with ForAllValues also a Null check; a single-valued one never with a set operator', async () => {
    // Every optional statement too: the X-Ray grant, the alarm topic and its key, the secrets' key.
    const everything = synthesize({
      ...NO_BUNDLING,
      stage: 'prod',
      xrayTracing: 'true',
      alarmEmail: 'oncall@example.com',
      secretsKmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/00000000-1111-4222-8333-444444444444',
    });
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const s of [...stages.map((st) => st.s), everything]) {
      for (const { where, document } of documentsOf(s)) {
        for (const statement of [document.Statement].flat()) {
          const conditions: Record<string, Record<string, unknown>> = statement.Condition ?? {};
          for (const [operator, entries] of Object.entries(conditions)) {
            for (const key of Object.keys(entries)) {
              const multivalued = isConditionKeyArray(await typeForContextKey(key));
              const setOperator = /^For(All|Any)Values:/.test(operator);
              const at = `${where} ${statement.Sid ?? '(no Sid)'}: ${operator} ${key}`;
              seen.add(`${operator} ${key}`);
              // Null asks only whether the key is present, which works on any key.
              if (operator === 'Null') continue;
              if (multivalued && !setOperator)
                problems.push(`${at}: ${key} is multivalued; a single-valued operator never matches it`);
              if (!multivalued && setOperator)
                problems.push(`${at}: ${key} is single-valued; use ${operator.split(':')[1]}`);
              // ForAllValues holds for a request without the key at all: an Allow must also require it.
              if (
                operator.startsWith('ForAllValues:') &&
                statement.Effect === 'Allow' &&
                (conditions.Null as any)?.[key] !== 'false'
              ) {
                problems.push(`${at}: add "Null": {"${key}": "false"}, or a request without ${key} passes`);
              }
            }
          }
        }
      }
    }
    assert.deepEqual(problems, []);
    // The review saw the conditions it is about (so an empty problem list means something).
    for (const expected of [
      'ForAllValues:StringEquals events:source',
      'ForAllValues:StringLike dynamodb:LeadingKeys',
      'StringEquals kms:EncryptionContext:tenant_id',
      'StringEquals kms:ViaService',
      'Bool aws:SecureTransport',
    ])
      assert.ok(seen.has(expected), `saw ${expected} (saw ${[...seen].join('; ')})`);
  });
});

describe('what the simulator cannot decide: the encryption context of kms:Decrypt', () => {
  // The simulator ignores kms:EncryptionContext:<key> (so every request naming one is left
  // undecided above). The reader's Decrypt is safe if (1) KMS decrypts a token only under the
  // encryption context it was encrypted with, which the KMS cases of test/standins/kms.test.ts
  // show against moto's KMS ("a record copied to another user, Item or tenant fails Decrypt"),
  // and (2) the policy allows Decrypt outside DynamoDB only under the tenant's own tenant_id.
  // (2) is this statement-level check.
  test("each reader's Decrypt: its own tenant_id, exactly, or only through DynamoDB for this table", () => {
    for (const st of stages) {
      for (const [tenant, { policy }] of st.readers) {
        const decrypts = [policy.Statement]
          .flat()
          .filter((s: any) => [s.Action].flat().some((a: string) => a === 'kms:Decrypt' || a.includes('*')));
        assert.deepEqual(
          decrypts.map((s: any) => ({ Effect: s.Effect, Resource: s.Resource, Condition: s.Condition })),
          [
            // StringEquals on a single-valued key: a request without a tenant_id in its context,
            // or with any other value (no wildcard, no IfExists), does not match.
            {
              Effect: 'Allow',
              Resource: st.r.key,
              Condition: { StringEquals: { 'kms:EncryptionContext:tenant_id': tenant } },
            },
            // Only DynamoDB, decrypting this table's key: a token's context has no table name.
            {
              Effect: 'Allow',
              Resource: st.r.key,
              Condition: {
                StringEquals: {
                  'kms:ViaService': `dynamodb.${TEST_TARGET.region}.amazonaws.com`,
                  'kms:EncryptionContext:aws:dynamodb:tableName': st.r.table.split('/').pop(),
                },
              },
            },
          ],
          `${st.name} ${tenant}`,
        );
      }
    }
  });

  test('the simulator does ignore those keys (when it learns them, the undecided cases become decided ones)', async () => {
    const st = stages[0]!;
    const tenant = st.tenants[0]!;
    const { ignoredContextKeys } = await simulate(st, 'reader', tenant, {
      action: 'kms:Decrypt',
      resource: st.r.key,
      context: { ...tokenContext(tenant), ...throughDynamoDB(st.r) },
    });
    assert.ok(ignoredContextKeys.includes('kms:EncryptionContext:tenant_id'));
    assert.ok(ignoredContextKeys.includes('kms:EncryptionContext:aws:dynamodb:tableName'));
    assert.ok(!ignoredContextKeys.includes('kms:ViaService'));
  });
});

// The ARNs requests name are the stack's own resources, in the shape each service gives them.
test("the resolved resources are the stack's table, key, bus and role", () => {
  for (const st of stages) {
    const { r } = st;
    const stack = Stack.of(st.s.stack);
    const ref = (c: any) => st.resolver.ref(stack.getLogicalId(c.node.defaultChild));
    assert.equal(r.table, `arn:aws:dynamodb:us-east-1:123456789012:table/${ref(st.s.stack.vault.table)}`);
    assert.equal(r.key, `arn:aws:kms:us-east-1:123456789012:key/${ref(st.s.stack.vault.key)}`);
    assert.equal(r.bus, `arn:aws:events:us-east-1:123456789012:event-bus/${stack.stackName}-webhooks`);
    assert.equal(st.functionRole.arn, `arn:aws:iam::123456789012:role/${ref(st.s.stack.linkToken.function.role!)}`);
  }
});
