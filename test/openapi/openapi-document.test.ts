// The OpenAPI description (openapi/link-token.openapi.json): committed exactly as the generator
// makes it from the valibot schemas and the problem table, structurally a valid OpenAPI 3.1
// document (a focused check, no dependency), describing every status the function can answer,
// and with a request schema that accepts and refuses what the function itself does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ProblemKind } from '../../lambda/http/http-failure.ts';
import { parseClientChoices } from '../../lambda/domain/client-choices.ts';
import { ServiceFailure } from '../../lambda/domain/failure.ts';
import { PROBLEM_TYPE_BASE, PROBLEM_TYPES } from '../../lambda/http/problem.ts';
import { parseLinkItemBody } from '../../lambda/domain/items.ts';
import {
  allowOf,
  OPENAPI_FILE,
  OPERATION_KINDS,
  PATH_METHODS,
  PREFLIGHT_KINDS,
  ROUTING_ONLY_KINDS,
  renderOpenApiDocument,
  WEBHOOK_ONLY_KINDS,
} from '../../openapi/generate.ts';
import { resolvePointer, SUPPORTED_KEYWORDS, validate, type Json } from './json-schema.ts';

type Obj = { [key: string]: Json };
const committed = readFileSync(OPENAPI_FILE, 'utf8');
const doc = JSON.parse(committed) as Obj;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const deref = (v: Json | undefined): Obj => {
  let node = v;
  for (let i = 0; isObj(node) && typeof node.$ref === 'string' && i < 10; i++) node = resolvePointer(doc, node.$ref);
  assert.ok(isObj(node), 'reference resolves to an object');
  return node;
};
const paths = doc.paths as Obj;
const operation = (path: string, method: string) => (paths[path] as Obj)[method] as Obj;
const statusesOf = (kinds: readonly ProblemKind[]) => [...new Set(kinds.map((k) => PROBLEM_TYPES[k].status))].sort();
const allKinds = Object.keys(PROBLEM_TYPES) as ProblemKind[];

test('the committed OpenAPI file is exactly what the generator makes from the schemas (no drift)', () => {
  assert.equal(
    committed,
    renderOpenApiDocument(),
    'openapi/link-token.openapi.json is stale: run `node openapi/generate.ts` and commit it',
  );
});

test('it is a structurally valid OpenAPI 3.1 document', () => {
  assert.ok(
    typeof doc.openapi === 'string' && /^3\.1\.\d+$/.test(doc.openapi),
    `openapi ${JSON.stringify(doc.openapi)}`,
  );
  const info = doc.info as Obj;
  assert.ok(
    typeof info.title === 'string' && info.title !== '' && typeof info.version === 'string' && info.version !== '',
    'info.title and info.version',
  );
  const allowedTop = new Set([
    'openapi',
    'info',
    'jsonSchemaDialect',
    'servers',
    'paths',
    'webhooks',
    'components',
    'security',
    'tags',
    'externalDocs',
  ]);
  for (const key of Object.keys(doc)) assert.ok(allowedTop.has(key) || key.startsWith('x-'), `top-level field ${key}`);
  assert.ok(
    isObj(doc.paths) || isObj(doc.webhooks) || isObj(doc.components),
    '3.1 needs paths, webhooks or components',
  );

  for (const server of doc.servers as Obj[]) {
    const url = server.url;
    assert.ok(typeof url === 'string', `server url ${JSON.stringify(url)}`);
    const variables = (server.variables ?? {}) as Obj;
    for (const [, name] of url.matchAll(/\{([^}]+)\}/g)) {
      assert.ok(
        isObj(variables[name!]) && typeof (variables[name!] as Obj).default === 'string',
        `server variable ${name} has a default`,
      );
    }
    assert.ok(
      URL.canParse(url.replace(/\{([^}]+)\}/g, (_, n: string) => (variables[n] as Obj).default as string)),
      `server url ${url}`,
    );
  }

  // Every $ref anywhere resolves.
  const refs: string[] = [];
  const walk = (node: Json) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (isObj(node)) {
      if (typeof node.$ref === 'string') refs.push(node.$ref);
      Object.values(node).forEach(walk);
    }
  };
  walk(doc);
  assert.ok(refs.length > 10);
  for (const ref of refs) assert.notEqual(resolvePointer(doc, ref), undefined, `$ref ${ref} resolves`);

  const components = doc.components as Obj;
  const componentKinds = new Set([
    'schemas',
    'responses',
    'parameters',
    'examples',
    'requestBodies',
    'headers',
    'securitySchemes',
    'links',
    'callbacks',
    'pathItems',
  ]);
  for (const [kind, entries] of Object.entries(components)) {
    assert.ok(componentKinds.has(kind), `components.${kind}`);
    for (const name of Object.keys(entries as Obj))
      assert.match(name, /^[a-zA-Z0-9.\-_]+$/, `component name ${kind}.${name}`);
  }
  const schemes = components.securitySchemes as Obj;
  for (const [name, raw] of Object.entries(schemes)) {
    const scheme = raw as Obj;
    assert.ok(
      typeof scheme.type === 'string' &&
        ['apiKey', 'http', 'mutualTLS', 'oauth2', 'openIdConnect'].includes(scheme.type),
      `securityScheme ${name}.type`,
    );
    if (scheme.type === 'http') assert.equal(typeof scheme.scheme, 'string', `securityScheme ${name}.scheme`);
  }
  assert.deepEqual(schemes.bearerAuth, {
    ...(schemes.bearerAuth as Obj),
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
  });

  const declaredTags = new Set((doc.tags as Obj[]).map((t) => t.name));
  const operationIds = new Set<string>();
  const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
  const checkSecurity = (requirements: Json | undefined) => {
    for (const requirement of (requirements as Obj[] | undefined) ?? []) {
      for (const name of Object.keys(requirement))
        assert.ok(Object.hasOwn(schemes, name), `security requirement ${name} is a declared scheme`);
    }
  };
  checkSecurity(doc.security);
  for (const [path, rawItem] of Object.entries(paths)) {
    assert.match(path, /^\//, `path ${path}`);
    const item = rawItem as Obj;
    for (const key of Object.keys(item))
      assert.ok(
        ['summary', 'description', 'servers', 'parameters', '$ref', ...methods].includes(key),
        `path item field ${key}`,
      );
    for (const method of methods.filter((m) => item[m])) {
      const op = item[method] as Obj;
      const where = `${method.toUpperCase()} ${path}`;
      assert.ok(
        typeof op.operationId === 'string' && !operationIds.has(op.operationId),
        `${where}: unique operationId`,
      );
      operationIds.add(op.operationId);
      for (const tag of (op.tags as string[] | undefined) ?? [])
        assert.ok(declaredTags.has(tag), `${where}: tag ${tag} declared`);
      checkSecurity(op.security);
      for (const raw of (op.parameters as Json[] | undefined) ?? []) {
        const parameter = deref(raw);
        assert.ok(
          typeof parameter.in === 'string' && ['query', 'header', 'path', 'cookie'].includes(parameter.in),
          `${where}: parameter ${JSON.stringify(parameter.name)}.in`,
        );
        assert.ok(
          typeof parameter.name === 'string' && (isObj(parameter.schema) || isObj(parameter.content)),
          `${where}: parameter ${JSON.stringify(parameter.name)}`,
        );
        if (parameter.in === 'path') assert.equal(parameter.required, true);
      }
      if (op.requestBody) {
        const body = deref(op.requestBody);
        assert.ok(isObj(body.content) && Object.keys(body.content).length > 0, `${where}: requestBody.content`);
      }
      const responses = op.responses as Obj;
      assert.ok(isObj(responses) && Object.keys(responses).length > 0, `${where}: responses`);
      for (const [status, raw] of Object.entries(responses)) {
        assert.match(status, /^([1-5](\d\d|XX)|default)$/, `${where}: response key ${status}`);
        const response = deref(raw);
        assert.equal(typeof response.description, 'string', `${where} ${status}: description`);
        for (const [name, rawHeader] of Object.entries((response.headers ?? {}) as Obj)) {
          const header = deref(rawHeader);
          assert.notEqual(name.toLowerCase(), 'content-type', 'Content-Type is not described as a header');
          assert.ok(!('name' in header) && !('in' in header), `${where} ${status}: header ${name} has no name/in`);
          assert.ok(isObj(header.schema) || isObj(header.content), `${where} ${status}: header ${name} schema`);
        }
        for (const [mediaType, media] of Object.entries((response.content ?? {}) as Obj)) {
          assert.match(mediaType, /^[\w.+-]+\/[\w.+-]+$/, `${where} ${status}: media type`);
          assert.ok(isObj((media as Obj).schema), `${where} ${status}: ${mediaType} schema`);
        }
      }
    }
  }

  // Schemas use only keywords this repo's validator checks (a typo cannot hide).
  const schemaNodes: Json[] = [];
  const collectSchemas = (node: Json) => {
    if (!isObj(node)) return;
    schemaNodes.push(node);
    for (const [key, value] of Object.entries(node)) {
      if (key === 'properties') Object.values(value as Obj).forEach(collectSchemas);
      else if (['allOf', 'anyOf', 'oneOf'].includes(key)) (value as Json[]).forEach(collectSchemas);
      else if (['items', 'additionalProperties', 'not'].includes(key)) collectSchemas(value);
    }
  };
  for (const schema of Object.values(components.schemas as Obj)) collectSchemas(schema);
  const findSchemaFields = (node: Json) => {
    if (Array.isArray(node)) node.forEach(findSchemaFields);
    else if (isObj(node))
      for (const [key, value] of Object.entries(node)) {
        if (key === 'schema') collectSchemas(value);
        else findSchemaFields(value);
      }
  };
  findSchemaFields(paths);
  findSchemaFields(components.responses as Obj);
  findSchemaFields(components.headers as Obj);
  assert.ok(schemaNodes.length > 20);
  for (const node of schemaNodes) {
    for (const keyword of Object.keys(node as Obj))
      assert.ok(SUPPORTED_KEYWORDS.has(keyword), `schema keyword ${keyword}`);
  }

  // Every example validates against its schema, and the function accepts every request example.
  const parsers: Record<string, (body: unknown) => unknown> = {
    '/link-token': parseClientChoices,
    '/items': parseLinkItemBody,
  };
  let examples = 0;
  for (const [path, method] of [
    ['/link-token', 'post'],
    ['/items', 'post'],
    ['/items', 'get'],
  ] as const) {
    const op = operation(path, method);
    if (op.requestBody) {
      const request = ((op.requestBody as Obj).content as Obj)['application/json'] as Obj;
      for (const [name, example] of Object.entries(request.examples as Obj)) {
        assert.deepEqual(
          validate(request.schema!, (example as Obj).value, doc),
          [],
          `${method} ${path} request example ${name}`,
        );
        assert.doesNotThrow(
          () => parsers[path]!((example as Obj).value),
          `${method} ${path} request example ${name}: the function accepts it`,
        );
        examples++;
      }
    }
    for (const [status, response] of Object.entries(op.responses as Obj)) {
      const media = ((deref(response).content ?? {}) as Obj)['application/json'] as Obj | undefined;
      if (media?.example === undefined) continue;
      assert.deepEqual(validate(media.schema!, media.example, doc), [], `${method} ${path} ${status} example`);
      examples++;
    }
  }
  assert.ok(examples >= 10, `${examples} examples checked`);
});

test('every status the function can answer is described, with the problem types and headers behind it', () => {
  const components = doc.components as Obj;
  const described = new Map<number, Obj>();
  for (const response of Object.values(components.responses as Obj)) {
    const schema = ((response as Obj).content as Obj)['application/problem+json'] as Obj;
    const status = ((((schema.schema as Obj).allOf as Obj[])[1]!.properties as Obj).status as Obj).const as number;
    described.set(status, response as Obj);
  }
  assert.deepEqual(
    [...described.keys()].sort(),
    statusesOf(allKinds),
    'components.responses has one response per problem status',
  );
  for (const kind of allKinds) {
    const { status, slug, title } = PROBLEM_TYPES[kind];
    const extra = (((described.get(status)!.content as Obj)['application/problem+json'] as Obj).schema as Obj)
      .allOf as Obj[];
    const props = extra[1]!.properties as Obj;
    assert.ok(
      ((props.type as Obj).enum as string[]).includes(`${PROBLEM_TYPE_BASE}${slug}`),
      `${kind}: type listed under ${status}`,
    );
    assert.ok(((props.title as Obj).enum as string[]).includes(title), `${kind}: title listed under ${status}`);
  }
  const headersOf = (status: number) => Object.keys((described.get(status)!.headers ?? {}) as Obj);
  assert.ok(headersOf(401).includes('WWW-Authenticate'));
  assert.ok(headersOf(429).includes('Retry-After'));
  assert.ok(headersOf(405).includes('Allow'));
  for (const status of described.keys())
    assert.ok(headersOf(status).includes('X-Correlation-Id'), `${status}: X-Correlation-Id`);

  // Each operation declares its successes and the statuses of exactly the failures it can answer;
  // each problem response lists exactly those failures' types (a DELETE's 404 is never `not-found`).
  const successes: Record<keyof typeof OPERATION_KINDS, [string, string, string[]]> = {
    createLinkToken: ['/link-token', 'post', ['200']],
    linkItem: ['/items', 'post', ['200', '201']],
    listItems: ['/items', 'get', ['200']],
    removeItem: ['/items/{item_id}', 'delete', ['204']],
    eraseUser: ['/me', 'delete', ['204']],
  };
  // 409: POST /items's (a duplicate Item, the Item limit) and a new link token's (the limit).
  assert.deepEqual(
    allKinds.filter((k) => Object.values(OPERATION_KINDS).some((kinds) => kinds.includes(k)) === false).sort(),
    [...ROUTING_ONLY_KINDS, ...WEBHOOK_ONLY_KINDS].sort(),
  );
  assert.ok(OPERATION_KINDS.createLinkToken.includes('conflict') && !OPERATION_KINDS.removeItem.includes('conflict'));
  const typesOf = (response: Json) =>
    (
      ((((deref(response).content as Obj)['application/problem+json'] as Obj).schema as Obj).allOf as Obj[])[1]!
        .properties as Obj
    ).type as Obj;
  const checkOperation = (op: Obj, kinds: readonly ProblemKind[], ok: string[], where: string) => {
    assert.deepEqual(
      Object.keys(op.responses as Obj).sort(),
      [...ok, ...statusesOf(kinds).map(String)].sort(),
      `${where}: statuses`,
    );
    for (const status of statusesOf(kinds)) {
      const expected = kinds
        .filter((k) => PROBLEM_TYPES[k].status === status)
        .map((k) => `${PROBLEM_TYPE_BASE}${PROBLEM_TYPES[k].slug}`);
      assert.deepEqual(
        typesOf((op.responses as Obj)[String(status)]!).enum,
        expected,
        `${where} ${status}: problem types`,
      );
    }
  };
  for (const [operationId, [path, method, ok]] of Object.entries(successes)) {
    const op = operation(path, method);
    assert.equal(op.operationId, operationId);
    assert.deepEqual(op.security, [{ bearerAuth: [] }]);
    checkOperation(op, OPERATION_KINDS[operationId as keyof typeof OPERATION_KINDS], ok, `${method} ${path}`);
  }
  const conflict = deref((operation('/items', 'post').responses as Obj)['409']);
  const conflictSchema = deref(
    ((((conflict.content as Obj)['application/problem+json'] as Obj).schema as Obj).allOf as Obj[])[0],
  );
  assert.ok((conflictSchema.required as string[]).includes('existing_item_id'), '409 names the existing Item');
  for (const status of ['200', '201']) {
    assert.equal(
      deref((deref((operation('/items', 'post').responses as Obj)[status]).headers as Obj).Location).required,
      true,
      `POST /items ${status}: Location`,
    );
  }
  for (const path of Object.keys(PATH_METHODS) as Array<keyof typeof PATH_METHODS>) {
    assert.deepEqual(
      Object.keys(paths[path] as Obj)
        .filter((k) => k !== 'parameters')
        .sort(),
      [...PATH_METHODS[path].map((m) => m.toLowerCase()), 'options'].sort(),
      `${path}: methods`,
    );
    const options = operation(path, 'options');
    checkOperation(options, PREFLIGHT_KINDS, ['204'], `OPTIONS ${path}`);
    assert.deepEqual(options.security, [], 'a preflight carries no credentials');
    const allow = deref((deref((options.responses as Obj)['204']).headers as Obj).Allow);
    assert.equal((allow.schema as Obj).const, allowOf(path), `OPTIONS ${path}: Allow`);
  }
  assert.deepEqual(Object.keys(paths).sort(), Object.keys(PATH_METHODS).sort(), 'the described paths are the routes');
  // The routing-only statuses are described too (components), as the info says.
  for (const kind of ROUTING_ONLY_KINDS) assert.ok(described.has(PROBLEM_TYPES[kind].status));
});

test('the POST /items request schema accepts and refuses exactly what the function does', () => {
  const requestSchema = deref(
    (((operation('/items', 'post').requestBody as Obj).content as Obj)['application/json'] as Obj).schema,
  );
  const bodies: unknown[] = [
    { public_token: 'public-sandbox-00000000-0000-4000-8000-000000000001' },
    { public_token: 'public-production-00000000-0000-4000-8000-000000000001' },
    { public_token: 'public-development-00000000-0000-4000-8000-000000000001' },
    { public_token: 'access-sandbox-00000000-0000-4000-8000-000000000001' },
    { public_token: 'public-sandbox-B0E2C4EE-a763-4df5-bfe9-46a46bce993d' },
    { public_token: 'public-sandbox-00000000-0000-4000-8000-000000000001', client_user_id: 'x' },
    { public_token: 1 },
    {},
    [],
    null,
  ];
  for (const body of bodies) {
    let functionAccepts = true;
    try {
      parseLinkItemBody(body);
    } catch (error) {
      assert.ok(error instanceof ServiceFailure && error.kind === 'invalid_request');
      functionAccepts = false;
    }
    assert.equal(validate(requestSchema, body, doc).length === 0, functionAccepts, JSON.stringify(body));
  }
});

test('the generated request schema accepts and refuses exactly what the function does', () => {
  const schema = deref(((operation('/link-token', 'post').requestBody as Obj).content as Obj)['application/json']);
  const requestSchema = deref(schema.schema);
  const bodies: unknown[] = [
    { platform: 'web' },
    { platform: 'ios', language: 'fr' },
    { platform: 'android', profile: 'payments', language: 'es' },
    { platform: 'web', profile: 'default' },
    {},
    { platform: 'windows' },
    { platform: 'WEB' },
    { platform: 1 },
    { platform: 'web', redirect_uri: 'https://evil.example/cb' },
    { platform: 'android', android_package_name: 'com.evil' },
    { platform: 'web', extra: true },
    { platform: 'web', profile: 'Not A Profile' },
    { platform: 'web', profile: '' },
    { platform: 'web', profile: 'a'.repeat(41) },
    { platform: 'web', language: 'xx' },
    { platform: 'web', language: null },
    { platform: 'web', mode: 'update', item_id: 'eVBnVMp7zdTJLkRNr33Rs6zr7KNJqBFL9DrE6' },
    { platform: 'ios', mode: 'update', item_id: 'item_1', account_selection: true },
    { platform: 'web', mode: 'update', item_id: 'item_1', account_selection: false },
    { platform: 'web', mode: 'new' },
    { platform: 'web', mode: 'update' },
    { platform: 'web', mode: 'update', account_selection: true },
    { platform: 'web', item_id: 'item_1' },
    { platform: 'web', mode: 'new', item_id: 'item_1' },
    { platform: 'web', account_selection: true },
    { platform: 'web', mode: 'update', item_id: 'not/an id' },
    { platform: 'web', mode: 'update', item_id: 'i', account_selection: 'yes' },
    { platform: 'web', mode: 'repair', item_id: 'item_1' },
    [],
    null,
    'web',
  ];
  for (const body of bodies) {
    let functionAccepts = true;
    try {
      parseClientChoices(body);
    } catch (error) {
      assert.ok(error instanceof ServiceFailure && error.kind === 'invalid_request');
      functionAccepts = false;
    }
    const schemaAccepts = validate(requestSchema, body, doc).length === 0;
    assert.equal(
      schemaAccepts,
      functionAccepts,
      `${JSON.stringify(body)}: schema ${schemaAccepts ? 'accepts' : 'refuses'}, function ${functionAccepts ? 'accepts' : 'refuses'}`,
    );
  }
});
