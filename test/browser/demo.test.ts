// The product proven from a real browser: Debian's Chromium (never a downloaded one), driven by
// playwright-core against the local stack. The demo page is served from http://localhost:<port>
// and calls the API at http://127.0.0.1:<port>: another origin, so Chromium runs a real CORS
// preflight before the POST. Offline, the page loads the local stand-in for Plaid's Link script,
// which records Plaid.create and simulates the OAuth redirect and onSuccess.
// Artifacts: test-artifacts/demo.png (the demo with Link open) and test-artifacts/browser-network.json
// (the preflight and request headers Chromium sent and got). UPDATE_DOCS_SCREENSHOT=1 also
// refreshes docs/demo.png for docs/clients.md.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { TenantsFile } from '../../lambda/config/tenant-schema.ts';
import { startLocalStack, type LocalStack } from '../../local/start.ts';
import { startPlaidStandIn } from '../../local/standins/plaid.ts';
import { formatHeaders, recordNetwork, type NetworkRecorder, type WireExchange } from './network-recorder.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = join(ROOT, 'test-artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Without a browser every test here is skipped with this reason; the set-up (npm run setup) says what to install.
const NO_BROWSER = existsSync(CHROMIUM)
  ? undefined
  : `no Chromium at ${CHROMIUM}: install Chromium or Chrome and set CHROMIUM_PATH to it (never a downloaded build)`;
const browserTest = (NO_BROWSER ? (name: string) => test(name, { skip: NO_BROWSER }) : test) as typeof test;
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

let stack: LocalStack;
let browser: Browser;
let workDir: string;
let apiOrigin: string; // http://127.0.0.1:<port>, where the endpoint is called
let pageOrigin: string; // http://localhost:<port>, an origin the demo tenant allows
let tenants: TenantsFile;
const seen: Record<string, unknown> = {};

interface StandInCall {
  call: string;
  token?: string;
  receivedRedirectUri?: string | null;
  callbacks?: string[];
  page: string;
}

before(async () => {
  if (NO_BROWSER) return;
  process.env.LOG_LEVEL ??= 'warn';
  workDir = mkdtempSync(join(tmpdir(), 'link-token-browser-'));
  // Only the knobs this test means: the demo tenant, every stand-in, a free port.
  stack = await startLocalStack({ PORT: '0', HOST: '127.0.0.1', LOCAL_WORK_DIR: workDir });
  apiOrigin = new URL(stack.apiUrl).origin;
  pageOrigin = apiOrigin.replace('127.0.0.1', 'localhost');
  tenants = JSON.parse(readFileSync(stack.tenantsFile, 'utf8')) as TenantsFile;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await stack?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  if (Object.keys(seen).length > 0)
    writeFileSync(join(ARTIFACTS, 'browser-network.json'), `${JSON.stringify(seen, null, 2)}\n`);
});

interface Session {
  context: BrowserContext;
  page: Page;
  net: NetworkRecorder;
  console: string[];
  pageErrors: string[];
}

async function openSession(): Promise<Session> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const session: Session = { context, page, net: await recordNetwork(page), console: [], pageErrors: [] };
  page.on('console', (m) => session.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => session.pageErrors.push(e.message));
  return session;
}

const standInCalls = (page: Page) =>
  page.evaluate(() => (window as unknown as { PlaidLinkStandIn: { calls: StandInCall[] } }).PlaidLinkStandIn.calls);

function describe(label: string, x: WireExchange | undefined): string {
  if (!x) return `  ${label}: (none)`;
  return [
    `  ${label}: ${x.method} ${x.url} → ${x.status ?? x.failed?.errorText}${x.failed?.corsError ? ` (${x.failed.corsError})` : ''}`,
    '   request headers:',
    formatHeaders(x.requestHeaders),
    '   response headers:',
    formatHeaders(x.responseHeaders),
  ].join('\n');
}

const summary = (x: WireExchange | undefined) =>
  x && {
    method: x.method,
    url: x.url,
    type: x.type,
    status: x.status,
    failed: x.failed,
    request_headers: redact(x.requestHeaders),
    response_headers: x.responseHeaders,
  };
const redact = (headers: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [
      k,
      k === 'authorization' ? v.replace(/^(Bearer [\w-]{8})[\w.-]+$/, '$1…') : v,
    ]),
  );

let allowed: Session | undefined;
let firstToken: string | undefined;

browserTest(
  'from an allowed origin the demo signs in, gets a link token cross-origin after a real CORS preflight, and opens Plaid Link with it',
  { timeout: 60_000 },
  async () => {
    const demoTenant = tenants.tenants.demo!;
    assert.ok(demoTenant.allowed_origins.includes(pageOrigin), `the demo tenant allows ${pageOrigin}`);
    const s = (allowed = await openSession());
    const { page, net } = s;
    const endpoint = `${apiOrigin}/link-token`;

    await page.goto(`${pageOrigin}/?api=${encodeURIComponent(apiOrigin)}&plaid_link=stand-in`);
    await page.click('#sign-in');
    await page.waitForSelector('#status[data-kind="signed-in"]');
    await page.click('#get-token');
    await page.waitForSelector('section.plaid-stand-in[role="dialog"]');

    const shown = JSON.parse((await page.textContent('#result')) ?? '{}') as {
      link_token: string;
      expiration: string;
      correlation_id: string;
    };
    firstToken = shown.link_token;
    assert.match(shown.link_token, /^link-sandbox-/);
    assert.ok(Date.parse(shown.expiration) > Date.now(), 'the token is not yet expired');
    assert.match((await page.textContent('#status')) ?? '', /Got a link token, valid until/);

    // The preflight: what Chromium sent and what the function answered.
    const preflight = net.to(endpoint, 'OPTIONS');
    assert.equal(preflight.length, 1, 'exactly one preflight');
    const pre = preflight[0]!;
    assert.equal(pre.requestHeaders.origin, pageOrigin);
    assert.equal(pre.requestHeaders['access-control-request-method'], 'POST');
    assert.equal(pre.requestHeaders['access-control-request-headers'], 'authorization,content-type');
    assert.equal(pre.requestHeaders.authorization, undefined, 'a preflight carries no credentials');
    assert.equal(pre.status, 204);
    assert.equal(pre.responseHeaders['access-control-allow-origin'], pageOrigin);
    assert.equal(pre.responseHeaders['access-control-allow-methods'], 'POST, OPTIONS');
    assert.equal(pre.responseHeaders['access-control-allow-headers'], 'Authorization, Content-Type');
    assert.equal(pre.responseHeaders['access-control-max-age'], '600');

    // The request itself, cross-origin, with the bearer token and no cookies.
    const posts = net.to(endpoint, 'POST');
    assert.equal(posts.length, 1, 'exactly one POST');
    const post = posts[0]!;
    assert.equal(post.type, 'Fetch');
    assert.equal(post.requestHeaders.origin, pageOrigin);
    assert.match(post.requestHeaders.authorization ?? '', /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(post.requestHeaders['content-type'], 'application/json');
    assert.equal(post.requestHeaders['sec-fetch-mode'], 'cors');
    assert.equal(post.requestHeaders.cookie, undefined);
    assert.equal(post.status, 200);
    assert.equal(post.responseHeaders['access-control-allow-origin'], pageOrigin);
    assert.equal(
      post.responseHeaders['x-correlation-id'],
      shown.correlation_id,
      'the page could read the exposed X-Correlation-Id',
    );
    assert.equal(post.responseHeaders['cache-control'], 'no-store');

    // Plaid Link got the token: Plaid.create({ token, onSuccess, onExit }) then open().
    const calls = await standInCalls(page);
    assert.deepEqual(
      calls.map((c) => c.call),
      ['create', 'open'],
    );
    assert.equal(calls[0]!.token, shown.link_token);
    assert.deepEqual(calls[0]!.callbacks, ['onSuccess', 'onExit']);
    assert.equal(calls[0]!.receivedRedirectUri, null);

    assert.deepEqual(s.pageErrors, []);
    assert.deepEqual(
      s.console.filter((line) => /Content Security Policy|Refused to/i.test(line)),
      [],
      'the strict CSP is not violated',
    );

    await page.screenshot({ path: join(ARTIFACTS, 'demo.png'), fullPage: true });
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1') {
      mkdirSync(join(ROOT, 'docs'), { recursive: true });
      copyFileSync(join(ARTIFACTS, 'demo.png'), join(ROOT, 'docs', 'demo.png'));
    }

    seen.allowed_origin = { page_origin: pageOrigin, endpoint, preflight: summary(pre), request: summary(post) };
    console.log(
      [
        `What Chromium sent and got from ${pageOrigin} (an allowed origin):`,
        describe('preflight', pre),
        describe('request', post),
      ].join('\n'),
    );
  },
);

browserTest(
  'Plaid OAuth round trip: back at redirect_uri the page resumes Link with the same link token and receivedRedirectUri',
  { timeout: 60_000 },
  async () => {
    assert.ok(allowed && firstToken, 'runs after the allowed-origin test, on its page');
    const { page, net } = allowed;
    const redirectUri = tenants.tenants.demo!.profiles.default!.redirect_uri;
    assert.equal(
      redirectUri,
      `${pageOrigin}/oauth-return`,
      "the demo tenant's redirect_uri is this page's /oauth-return",
    );
    const tokenRequestsBefore = net.to(`${apiOrigin}/link-token`, 'POST').length;

    // The user picks an OAuth bank: Link leaves for the bank, which sends the browser to redirect_uri.
    await page.click('[data-stand-in="oauth"]');
    await page.waitForURL((url) => url.href.startsWith(`${redirectUri}?oauth_state_id=`));
    await page.waitForSelector('section.plaid-stand-in[role="dialog"]');
    const returnedTo = page.url();
    assert.match(returnedTo, /\/oauth-return\?oauth_state_id=[0-9a-f-]{36}$/);
    assert.equal(await page.getAttribute('#status', 'data-kind'), 'oauth-resume');

    const calls = await standInCalls(page);
    const resumed = calls.filter((c) => c.call === 'create').at(-1)!;
    assert.equal(resumed.token, firstToken, 'the same link token, kept for the session');
    assert.equal(resumed.receivedRedirectUri, returnedTo, 'receivedRedirectUri is the full URL the bank returned to');
    assert.deepEqual(resumed.callbacks, ['onSuccess', 'onExit']);
    assert.equal(calls.at(-1)!.call, 'open', 'and Link is opened again to finish');
    assert.equal(
      net.to(`${apiOrigin}/link-token`, 'POST').length,
      tokenRequestsBefore,
      'no new link token was requested',
    );

    // Link finishes: onSuccess, and the spent link token leaves the session.
    await page.click('[data-stand-in="success"]');
    await page.waitForSelector('#status[data-kind="linked"]');
    assert.match((await page.textContent('#status')) ?? '', /Linked First Platypus Bank/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('link-token-demo:session')), null);
    assert.deepEqual(allowed.pageErrors, []);
    seen.oauth_return = {
      redirect_uri: redirectUri,
      returned_to: returnedTo,
      same_token: resumed.token === firstToken,
    };
    console.log(
      `OAuth round trip: returned to ${returnedTo}; Plaid.create got the same link token and receivedRedirectUri; onSuccess reached the page.`,
    );
    await allowed.net.detach();
    await allowed.context.close();
  },
);

browserTest(
  'from an origin the tenant does not allow, the browser blocks the call after the preflight is refused',
  { timeout: 60_000 },
  async () => {
    // The same page, served through a small proxy on another loopback port: a new origin.
    const proxy = await startPageProxy(new URL(stack.apiUrl).port);
    const foreignOrigin = `http://localhost:${proxy.port}`;
    const s = await openSession();
    try {
      assert.ok(
        !tenants.tenants.demo!.allowed_origins.includes(foreignOrigin),
        `${foreignOrigin} is not an allowed origin`,
      );
      const { page, net } = s;
      const endpoint = `${apiOrigin}/link-token`;
      await page.goto(`${foreignOrigin}/?api=${encodeURIComponent(apiOrigin)}&plaid_link=stand-in`);
      await page.click('#sign-in');
      await page.waitForSelector('#status[data-kind="signed-in"]');
      await page.click('#get-token');
      await page.waitForSelector('#status[data-kind="network"]');
      assert.match((await page.textContent('#status')) ?? '', /not allowed to call it \(CORS\)/);

      const preflight = net.to(endpoint, 'OPTIONS');
      assert.equal(preflight.length, 1, 'the browser sent its preflight');
      const pre = preflight[0]!;
      assert.equal(pre.requestHeaders.origin, foreignOrigin);
      assert.equal(pre.status, 403, 'the function refused the preflight');
      assert.equal(
        pre.responseHeaders['access-control-allow-origin'],
        undefined,
        'without Access-Control-Allow-Origin',
      );
      assert.equal(pre.responseHeaders['content-type'], 'application/problem+json');
      const blocked = net.to(endpoint).find((x) => x.failed);
      assert.ok(blocked?.failed?.corsError, 'Chromium reports a CORS error');
      assert.deepEqual(
        net.to(endpoint, 'POST').map((x) => ({ onWire: x.onWire, status: x.status })),
        [{ onWire: false, status: undefined }],
        'the page asked for the POST, but Chromium never sent it',
      );
      assert.ok(
        s.console.some((line) => line.includes(`from origin '${foreignOrigin}' has been blocked by CORS policy`)),
        `Chromium logs the CORS block; console: ${s.console.join(' | ')}`,
      );

      // What the page's own code sees: fetch rejects with a bare TypeError, nothing else.
      const rejection = await page.evaluate(async (url) => {
        try {
          await fetch(url, {
            method: 'POST',
            headers: { authorization: 'Bearer x', 'content-type': 'application/json' },
            body: '{"platform":"web"}',
          });
          return null;
        } catch (error) {
          return { name: (error as Error).name, message: (error as Error).message };
        }
      }, endpoint);
      assert.deepEqual(rejection, { name: 'TypeError', message: 'Failed to fetch' });
      assert.deepEqual(
        (await standInCalls(page)).filter((c) => c.call === 'create'),
        [],
        'Plaid Link was never opened',
      );

      seen.foreign_origin = {
        page_origin: foreignOrigin,
        endpoint,
        preflight: summary(pre),
        blocked: blocked?.failed,
        page_saw: rejection,
      };
      console.log(
        [
          `What Chromium sent and got from ${foreignOrigin} (not an allowed origin):`,
          describe('preflight', pre),
          `  request: never sent; Chromium: ${blocked?.failed?.corsError} (${blocked?.failed?.errorText}); the page's fetch rejected with ${rejection?.name}: ${rejection?.message}`,
        ].join('\n'),
      );
    } finally {
      await s.net.detach();
      await s.context.close();
      await proxy.close();
    }
  },
);

browserTest(
  'in the browser, the typed client tells the failures a UI needs apart and can read the exposed headers',
  { timeout: 60_000 },
  async () => {
    const s = await openSession();
    try {
      const { page } = s;
      await page.goto(`${pageOrigin}/?api=${encodeURIComponent(apiOrigin)}&plaid_link=stand-in`);
      const outcomes = await page.evaluate(async (endpoint) => {
        // The same bundle the demo page imports, built from client/link-token-client.ts; a URL of
        // the page, which TypeScript is not to resolve.
        const clientUrl: string = '/demo/link-token-client.js';
        const client = await import(clientUrl);
        const { access_token: token } = await (
          await fetch('/dev/token', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
        ).json();
        const attempt = async (options: Record<string, unknown>) => {
          try {
            const t = await client.createLinkToken({ endpoint, ...options });
            return {
              ok: true,
              linkToken: t.linkToken,
              expiration: t.expiration.toISOString(),
              correlationId: t.correlationId,
            };
          } catch (e) {
            const error = e as {
              name: string;
              kind: string;
              status?: number;
              retryable: boolean;
              correlationId?: string;
              fieldErrors: unknown;
              problem?: { type: string };
            };
            return {
              ok: false,
              name: error.name,
              kind: error.kind,
              status: error.status,
              retryable: error.retryable,
              correlationId: error.correlationId,
              fieldErrors: error.fieldErrors,
              type: error.problem?.type,
            };
          }
        };
        const raw = await fetch(endpoint, {
          method: 'POST',
          headers: { authorization: 'Bearer not-a-jwt', 'content-type': 'application/json' },
          body: '{"platform":"web"}',
        });
        return {
          ok: await attempt({ getAccessToken: () => token, platform: 'web', language: 'fr' }),
          signedOut: await attempt({ getAccessToken: () => null }),
          badToken: await attempt({ getAccessToken: () => 'not-a-jwt' }),
          badProfile: await attempt({ getAccessToken: () => token, profile: 'no-such-profile' }),
          wwwAuthenticate: raw.headers.get('www-authenticate'),
        };
      }, `${apiOrigin}/link-token`);

      assert.equal(outcomes.ok.ok, true);
      assert.match(String(outcomes.ok.linkToken), /^link-sandbox-/);
      assert.ok(outcomes.ok.correlationId);
      assert.deepEqual(
        { ...outcomes.signedOut, correlationId: undefined },
        {
          ok: false,
          name: 'SignInExpiredError',
          kind: 'sign-in-expired',
          status: undefined,
          retryable: false,
          correlationId: undefined,
          fieldErrors: [],
          type: undefined,
        },
      );
      assert.equal(outcomes.badToken.kind, 'sign-in-expired');
      assert.equal(outcomes.badToken.status, 401);
      assert.equal(outcomes.badToken.type, 'tag:link-token-service,2026:problems/invalid-token');
      assert.ok(outcomes.badToken.correlationId, 'X-Correlation-Id is readable cross-origin');
      assert.equal(outcomes.badProfile.kind, 'bad-request');
      assert.equal(outcomes.badProfile.status, 400);
      assert.deepEqual(
        (outcomes.badProfile.fieldErrors as { field: string }[]).map((e) => e.field),
        ['profile'],
      );
      assert.match(
        outcomes.wwwAuthenticate ?? '',
        /^Bearer realm="link-token", error="invalid_token"/,
        'WWW-Authenticate is exposed to the page',
      );
      assert.deepEqual(s.pageErrors, []);
    } finally {
      await s.net.detach();
      await s.context.close();
    }
  },
);

/** Every Plaid access token the service used so far, as the Plaid stand-in received them. */
function accessTokensSeenByPlaid(): string[] {
  const tokens = new Set<string>();
  for (const request of stack.plaid!.requests) {
    const body = request.body as { access_token?: unknown } | undefined;
    if (body && typeof body === 'object' && typeof body.access_token === 'string') tokens.add(body.access_token);
  }
  return [...tokens];
}

const itemRows = (page: Page) =>
  page.$$eval('#items li', (rows) =>
    rows.map((li) => ({
      itemId: (li as HTMLElement).dataset.itemId!,
      name: li.querySelector('.name')?.textContent ?? '',
      status: (li as HTMLElement).dataset.status,
    })),
  );

browserTest(
  'the whole Items loop in the browser: link → exchange → list → duplicate refused → update mode → remove, and no access token reaches the page',
  { timeout: 90_000 },
  async () => {
    assert.ok(stack.plaid, 'the stack runs the Plaid stand-in');
    const user = `loop-user-${Date.now()}`;
    const s = await openSession();
    const { page, net } = s;
    try {
      await page.goto(`${pageOrigin}/?api=${encodeURIComponent(apiOrigin)}&plaid_link=stand-in&user=${user}`);
      await page.click('#sign-in');
      await page.waitForSelector('#status[data-kind="signed-in"]');
      await page.waitForSelector('#items-status[data-kind="listed"]', { state: 'attached' });
      assert.deepEqual(await itemRows(page), [], 'a new user has no Items');

      // Link: Link's onSuccess hands over a real sandbox public token, which the service exchanges.
      const exchangesBefore = stack.plaid.callsTo('/item/public_token/exchange');
      await page.click('#get-token');
      await page.waitForSelector('section.plaid-stand-in[role="dialog"]');
      await page.click('[data-stand-in="success"]');
      await page.waitForSelector('#status[data-kind="linked"]');
      assert.match((await page.textContent('#status')) ?? '', /^Linked First Platypus Bank \(Item [\w-]+\)\.$/);
      assert.equal(
        stack.plaid.callsTo('/item/public_token/exchange'),
        exchangesBefore + 1,
        'the service exchanged it at Plaid',
      );
      await page.waitForFunction(() => document.querySelectorAll('#items li').length === 1);
      const [first] = await itemRows(page);
      assert.deepEqual(
        { name: first!.name, status: first!.status },
        { name: 'First Platypus Bank', status: 'healthy' },
      );
      assert.equal(stack.plaid.item(first!.itemId)?.removed, false, 'the listed Item is live at Plaid');
      const created = net.exchanges.find((x) => x.method === 'POST' && x.url === `${apiOrigin}/items`)!;
      assert.equal(created.status, 201);
      assert.equal(created.responseHeaders.location, `/items/${first!.itemId}`);

      // A second bank: the list grows.
      await page.click('#get-token');
      await page.click('[data-stand-in="success-other"]');
      await page.waitForFunction(() => document.querySelectorAll('#items li').length === 2);
      assert.deepEqual((await itemRows(page)).map((r) => r.name).sort(), [
        'First Gingham Credit Union',
        'First Platypus Bank',
      ]);

      // The same bank again: the tenant refuses duplicates; the page points at the existing Item.
      await page.click('#get-token');
      await page.click('[data-stand-in="success"]');
      await page.waitForSelector('#status[data-kind="item-conflict"]');
      await page.waitForSelector(`#items li.conflict[data-item-id="${first!.itemId}"]`);
      assert.equal((await itemRows(page)).length, 2, 'no third Item');
      const conflict = net.exchanges.filter((x) => x.method === 'POST' && x.url === `${apiOrigin}/items`).at(-1)!;
      assert.equal(conflict.status, 409);

      // Update mode for the first Item: a link token for that Item, then Link with it.
      const sessionsBefore = stack.plaid.linkSessions.length;
      await page.click(`#items li[data-item-id="${first!.itemId}"] button[data-action="update"]`);
      await page.waitForSelector('#status[data-kind="update-link-token"]');
      const session = stack.plaid.linkSessions.at(-1)!;
      assert.equal(stack.plaid.linkSessions.length, sessionsBefore + 1);
      assert.deepEqual(
        session.update,
        { item_id: first!.itemId, account_selection_enabled: false },
        'Plaid got an update-mode link token for that Item',
      );
      const opened = (await standInCalls(page)).filter((c) => c.call === 'create').at(-1)!;
      assert.equal(opened.token, session.link_token, 'Link opened with the update-mode token');
      const exchangesBeforeUpdate = stack.plaid.callsTo('/item/public_token/exchange');
      await page.click('[data-stand-in="success"]');
      await page.waitForSelector('#status[data-kind="updated"]');
      assert.equal(
        stack.plaid.callsTo('/item/public_token/exchange'),
        exchangesBeforeUpdate,
        'update mode exchanges nothing',
      );
      assert.equal((await itemRows(page)).length, 2);

      // Remove it: gone from the list and at Plaid.
      await page.click(`#items li[data-item-id="${first!.itemId}"] button[data-action="remove"]`);
      await page.waitForSelector('#status[data-kind="removed"]');
      await page.waitForFunction(() => document.querySelectorAll('#items li').length === 1);
      assert.deepEqual(
        (await itemRows(page)).map((r) => r.name),
        ['First Gingham Credit Union'],
      );
      assert.equal(stack.plaid.item(first!.itemId)?.removed, true, 'removed at Plaid');
      const deleted = net.exchanges.find((x) => x.method === 'DELETE')!;
      assert.equal(deleted.status, 204);
      const deletePreflight = net.exchanges.find((x) => x.method === 'OPTIONS' && x.url === deleted.url)!;
      assert.equal(deletePreflight.responseHeaders['access-control-allow-methods'], 'DELETE, OPTIONS');

      // No access token anywhere the page could see: the DOM, responses (bodies and headers), console.
      await net.settled();
      const accessTokens = accessTokensSeenByPlaid();
      assert.ok(accessTokens.length >= 3, `the service used access tokens at Plaid (${accessTokens.length})`);
      const html = await page.content();
      const storage = await page.evaluate(
        () => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }),
      );
      const wire = net.exchanges
        .map((x) => `${x.url}\n${JSON.stringify(x.responseHeaders)}\n${x.body ?? ''}`)
        .join('\n');
      assert.ok(
        net.exchanges.filter((x) => x.url?.startsWith(`${apiOrigin}/items`) && x.body).length >= 5,
        'the Items responses were read',
      );
      for (const [where, text] of [
        ['page', html],
        ['storage', storage],
        ['network responses', wire],
        ['console', s.console.join('\n')],
      ] as const) {
        assert.doesNotMatch(text, /access-(sandbox|production|development)-/, `no access token in the ${where}`);
        for (const token of accessTokens) assert.ok(!text.includes(token), `the ${where} holds an access token`);
      }
      assert.deepEqual(s.pageErrors, []);
      assert.deepEqual(
        s.console.filter((line) => /Content Security Policy|Refused to/i.test(line)),
        [],
        'the strict CSP is not violated',
      );
      console.log(
        `Items loop in Chromium as ${user}: linked 2, duplicate refused (409), update mode for ${first!.itemId}, removed it; ${net.exchanges.length} responses and the page checked for ${accessTokens.length} access tokens: none.`,
      );
    } finally {
      await s.net.detach();
      await s.context.close();
    }
  },
);

interface ShownEvent {
  detailType: string;
  itemId: string;
  eventId: string;
  text: string;
}
const eventRows = (page: Page): Promise<ShownEvent[]> =>
  page.$$eval('#events li', (rows) =>
    rows.map((li) => ({
      detailType: (li as HTMLElement).dataset.detailType!,
      itemId: (li as HTMLElement).dataset.itemId!,
      eventId: (li as HTMLElement).dataset.eventId!,
      text: li.textContent ?? '',
    })),
  );
const itemRow = (page: Page, itemId: string) =>
  page.$eval(`#items li[data-item-id="${itemId}"]`, (li) => ({
    status: (li as HTMLElement).dataset.status,
    action: (li as HTMLElement).dataset.action,
    shown: li.querySelector('.state')?.textContent ?? '',
    updateHighlighted: li.querySelector('button[data-action="update"]')!.classList.contains('attention'),
  }));

browserTest(
  'webhooks in the browser: link → simulate login required → login_required and the ITEM.ERROR event → update mode → healthy, and no access token or Plaid-Verification value reaches the page',
  { timeout: 90_000 },
  async () => {
    assert.ok(stack.plaid, 'the stack runs the Plaid stand-in');
    const plaid = stack.plaid;
    const user = `hooks-user-${Date.now()}`;
    const s = await openSession();
    const { page, net } = s;
    try {
      await page.goto(`${pageOrigin}/?api=${encodeURIComponent(apiOrigin)}&plaid_link=stand-in&user=${user}`);
      await page.click('#sign-in');
      await page.waitForSelector('#items-status[data-kind="listed"]', { state: 'attached' });
      await page.waitForSelector('#events-status[data-kind="listed"]', { state: 'attached' });

      // Link through the demo's default profile: the Item gets the service's receiver URL.
      await page.click('#get-token');
      await page.click('[data-stand-in="success"]');
      await page.waitForSelector('#status[data-kind="linked"]');
      await page.waitForFunction(() => document.querySelectorAll('#items li').length === 1);
      const itemId = (await itemRows(page))[0]!.itemId;
      assert.equal(
        plaid.item(itemId)?.webhook,
        `${apiOrigin}/webhooks/plaid/demo`,
        "the Item's webhook is the service's receiver for the demo tenant",
      );
      assert.deepEqual(await itemRow(page, itemId), {
        status: 'healthy',
        action: 'none',
        shown: 'healthy · action: none',
        updateHighlighted: false,
      });

      // The bank stops accepting the login: Plaid puts the Item in ITEM_LOGIN_REQUIRED and says so by webhook.
      const deliveriesBefore = plaid.deliveries.length;
      await page.click(`#items li[data-item-id="${itemId}"] button[data-action="simulate-login-required"]`);
      await page.waitForSelector('#status[data-kind="login-required-simulated"]');
      const sent = plaid.deliveries.slice(deliveriesBefore);
      assert.equal(sent.length, 1, 'one webhook was sent');
      const delivery = sent[0]!;
      assert.equal(delivery.status, 200, 'the service verified and accepted it before the route answered');
      const webhookBody = JSON.parse(delivery.body) as {
        webhook_type: string;
        webhook_code: string;
        item_id: string;
        error: { error_code: string };
      };
      assert.deepEqual(
        [webhookBody.webhook_type, webhookBody.webhook_code, webhookBody.item_id, webhookBody.error.error_code],
        ['ITEM', 'ERROR', itemId, 'ITEM_LOGIN_REQUIRED'],
      );
      assert.equal(plaid.item(itemId)?.error_code, 'ITEM_LOGIN_REQUIRED');
      assert.match(
        (await page.textContent('#status')) ?? '',
        /Plaid sent ITEM ERROR \(ITEM_LOGIN_REQUIRED\), the service answered 200/,
      );

      // The list shows it, and the Update button asks to be pressed.
      await page.waitForSelector(`#items li[data-item-id="${itemId}"][data-status="login_required"]`);
      assert.deepEqual(await itemRow(page, itemId), {
        status: 'login_required',
        action: 'update',
        shown: 'login_required · action: update',
        updateHighlighted: true,
      });
      await page.waitForSelector(`#events li[data-item-id="${itemId}"]`);
      await page.screenshot({ path: join(ARTIFACTS, 'demo-webhooks.png'), fullPage: true });

      // The events panel has the event the service published, with the event_id of that very body.
      const eventId = createHash('sha256').update(delivery.body, 'utf8').digest('hex');
      await page.waitForSelector(`#events li[data-detail-type="ITEM.ERROR"][data-item-id="${itemId}"]`);
      const shownError = (await eventRows(page)).find((e) => e.itemId === itemId && e.detailType === 'ITEM.ERROR')!;
      assert.equal(shownError.eventId, eventId);
      assert.ok(
        shownError.text.includes(`item ${itemId}`) && shownError.text.includes(`event ${eventId}`),
        `the row shows them: ${shownError.text}`,
      );
      assert.match(shownError.text, / · \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'and when it was published');
      const eventsAnswer = net.exchanges.filter((x) => x.method === 'POST' && x.url === `${pageOrigin}/dev/events`);
      assert.ok(
        eventsAnswer.length >= 3,
        'the panel asked for the events on load, after linking and after the simulation',
      );

      // Update mode, as before: Link in update mode repairs the Item at Plaid, and Plaid sends no
      // webhook for that; the service learns it from Plaid on the next list.
      await page.click(`#items li[data-item-id="${itemId}"] button[data-action="update"]`);
      await page.waitForSelector('#status[data-kind="update-link-token"]');
      assert.deepEqual(plaid.linkSessions.at(-1)!.update, { item_id: itemId, account_selection_enabled: false });
      const deliveriesBeforeUpdate = plaid.deliveries.length;
      await page.click('[data-stand-in="success"]');
      await page.waitForSelector('#status[data-kind="updated"]');
      await page.click('#refresh-items');
      await page.waitForSelector(`#items li[data-item-id="${itemId}"][data-status="healthy"]`);
      assert.deepEqual(await itemRow(page, itemId), {
        status: 'healthy',
        action: 'none',
        shown: 'healthy · action: none',
        updateHighlighted: false,
      });
      await plaid.awaitDeliveries();
      assert.equal(plaid.deliveries.length, deliveriesBeforeUpdate, 'no webhook after in-app update mode');
      await page.click('#refresh-events');
      await page.waitForFunction(
        (id) => document.querySelectorAll(`#events li[data-item-id="${id}"]`).length > 0,
        itemId,
      );
      assert.deepEqual(
        (await eventRows(page))
          .filter((e) => e.itemId === itemId && e.detailType === e.detailType.toUpperCase())
          .map((e) => e.detailType),
        ['ITEM.ERROR'],
        'one event for the Item, published once',
      );

      // Nothing secret anywhere the page could see: the DOM, storage, request and response bodies and
      // headers, the console. The secrets are the access tokens the service used at Plaid and every
      // Plaid-Verification value sent so far.
      await net.settled();
      const accessTokens = accessTokensSeenByPlaid();
      const verificationJwts = plaid.deliveries.map((d) => d.headers['plaid-verification']!).filter(Boolean);
      assert.ok(
        accessTokens.length >= 1 && verificationJwts.length >= 1,
        `secrets to look for: ${accessTokens.length} access tokens, ${verificationJwts.length} Plaid-Verification values`,
      );
      const html = await page.content();
      const storage = await page.evaluate(
        () => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }),
      );
      const wire = net.exchanges
        .map((x) =>
          [
            x.url,
            JSON.stringify(x.requestHeaders),
            x.requestBody ?? '',
            JSON.stringify(x.responseHeaders),
            x.body ?? '',
          ].join('\n'),
        )
        .join('\n');
      assert.ok(
        net.exchanges.some(
          (x) => x.url === `${apiOrigin}/items` && x.method === 'POST' && x.requestBody?.includes('"public_token"'),
        ),
        'request bodies were recorded',
      );
      assert.ok(
        net.exchanges.some((x) => x.url === `${pageOrigin}/dev/simulate/login-required` && x.body?.includes(itemId)),
        "the simulation's answer was read",
      );
      assert.ok(
        net.exchanges.some((x) => x.url === `${pageOrigin}/dev/events` && x.body?.includes(eventId)),
        "the events' answer was read",
      );
      for (const [where, text] of [
        ['page', html],
        ['storage', storage],
        ['network', wire],
        ['console', s.console.join('\n')],
      ] as const) {
        assert.doesNotMatch(text, /access-(sandbox|production|development)-/, `no access token in the ${where}`);
        assert.doesNotMatch(text, /plaid-verification/i, `no Plaid-Verification header in the ${where}`);
        for (const token of accessTokens) assert.ok(!text.includes(token), `the ${where} holds an access token`);
        for (const jwt of verificationJwts)
          assert.ok(!text.includes(jwt), `the ${where} holds a Plaid-Verification value`);
      }
      assert.deepEqual(s.pageErrors, []);
      assert.deepEqual(
        s.console.filter((line) => /Content Security Policy|Refused to/i.test(line)),
        [],
        'the strict CSP is not violated',
      );
      console.log(
        `Webhooks in Chromium as ${user}: ${itemId} healthy → login_required (ITEM.ERROR event ${eventId.slice(0, 12)}…) → update mode → healthy; ${net.exchanges.length} exchanges checked for ${accessTokens.length} access tokens and ${verificationJwts.length} Plaid-Verification values: none.`,
      );
    } finally {
      await s.net.detach();
      await s.context.close();
    }
  },
);

browserTest(
  'POST /dev/simulate/login-required names what is wrong with its input and only touches live Items of the stand-in',
  { timeout: 30_000 },
  async () => {
    const simulate = async (body: unknown) => {
      const res = await fetch(`${apiOrigin}/dev/simulate/login-required`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as { message?: string } };
    };
    for (const body of [{}, { item_id: 42 }, { item_id: '' }, { item_id: '../items' }]) {
      const answer = await simulate(body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.match(answer.body.message ?? '', /^item_id: /);
    }
    assert.equal((await simulate({ item_id: 'no-such-item' })).status, 404);
    // An Item without a webhook URL (created without Link's link token): Plaid would send nothing.
    const quiet = stack.plaid!.createItem();
    const answer = await simulate({ item_id: quiet.item_id });
    assert.equal(answer.status, 409);
    assert.match(answer.body.message ?? '', /no webhook URL/);
    assert.equal(stack.plaid!.item(quiet.item_id)?.error_code, null, 'nothing was changed');
  },
);

browserTest(
  'POST /dev/simulate/login-required is 404 when the stack talks to another Plaid (it cannot reset a real Item)',
  { timeout: 60_000 },
  async () => {
    const other = await startPlaidStandIn({});
    const dir = mkdtempSync(join(tmpdir(), 'link-token-browser-other-plaid-'));
    const elsewhere = await startLocalStack({
      PORT: '0',
      HOST: '127.0.0.1',
      LOCAL_WORK_DIR: dir,
      PLAID_BASE_URL: other.url,
    });
    try {
      assert.equal(elsewhere.plaid, undefined);
      const { item_id } = other.createItem({ webhook: `${elsewhere.apiUrl}/webhooks/plaid/demo` });
      const res = await fetch(`${elsewhere.apiUrl}/dev/simulate/login-required`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ item_id }),
      });
      assert.equal(res.status, 404);
      assert.match(((await res.json()) as { message: string }).message, /not the local stand-in/);
      assert.equal(other.item(item_id)?.error_code, null, 'the other Plaid was not touched');
      assert.equal(other.callsTo('/sandbox/item/reset_login'), 0);
    } finally {
      await elsewhere.close();
      await other.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

browserTest(
  'in the browser, the service client links, lists and removes Items, and tells conflicts and missing Items apart',
  { timeout: 60_000 },
  async () => {
    const s = await openSession();
    try {
      const { page } = s;
      await page.goto(`${pageOrigin}/?api=${encodeURIComponent(apiOrigin)}&plaid_link=stand-in`);
      // Real sandbox public tokens, created as Link's onSuccess would hand them over.
      const linkToken = async (sub: string) => {
        const { access_token: jwt } = (await (
          await fetch(`${apiOrigin}/dev/token`, {
            method: 'POST',
            body: JSON.stringify({ sub }),
            headers: { 'content-type': 'application/json' },
          })
        ).json()) as { access_token: string };
        const res = await fetch(`${apiOrigin}/link-token`, {
          method: 'POST',
          headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
          body: '{"platform":"web"}',
        });
        return ((await res.json()) as { link_token: string }).link_token;
      };
      const publicToken = async (sub: string, institution: string) => {
        const res = await fetch(`${apiOrigin}/dev/plaid-link/success`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ link_token: await linkToken(sub), institution_id: institution }),
        });
        return ((await res.json()) as { public_token: string }).public_token;
      };
      const alice = `client-alice-${Date.now()}`;
      const bob = `client-bob-${Date.now()}`;
      const tokens = { first: await publicToken(alice, 'ins_109508'), again: await publicToken(alice, 'ins_109508') };
      const outcomes = await page.evaluate(
        async ({ apiBase, alice, bob, tokens }) => {
          const clientUrl: string = '/demo/link-token-client.js';
          const client = await import(clientUrl);
          const signIn = async (sub: string) =>
            (
              await (
                await fetch('/dev/token', {
                  method: 'POST',
                  body: JSON.stringify({ sub }),
                  headers: { 'content-type': 'application/json' },
                })
              ).json()
            ).access_token as string;
          const [aliceJwt, bobJwt] = [await signIn(alice), await signIn(bob)];
          const asAlice = client.createServiceClient({ baseUrl: apiBase, getAccessToken: () => aliceJwt });
          const asBob = client.createServiceClient({ baseUrl: apiBase, getAccessToken: () => bobJwt });
          const settle = async (p: Promise<unknown>) => {
            try {
              return { ok: true, value: await p };
            } catch (e) {
              const error = e as {
                name: string;
                kind: string;
                status?: number;
                existingItemId?: string;
                fieldErrors: { field: string }[];
              };
              return {
                ok: false,
                name: error.name,
                kind: error.kind,
                status: error.status,
                existingItemId: error.existingItemId,
                fields: error.fieldErrors.map((f) => f.field),
              };
            }
          };
          const linked = (await asAlice.linkItem(tokens.first)) as {
            itemId: string;
            created: boolean;
            institution: { name: string };
            createdAt: Date;
          };
          return {
            linked: {
              itemId: linked.itemId,
              created: linked.created,
              name: linked.institution.name,
              createdAtIsDate: linked.createdAt instanceof Date,
            },
            spent: await settle(asAlice.linkItem(tokens.first)),
            duplicate: await settle(asAlice.linkItem(tokens.again)),
            aliceList: ((await asAlice.listItems()) as { itemId: string; updatedAt: Date }[]).map((i) => ({
              itemId: i.itemId,
              updated: i.updatedAt instanceof Date,
            })),
            bobList: await asBob.listItems(),
            bobRemoves: await settle(asBob.removeItem(linked.itemId)),
            bobUpdates: await settle(asBob.createLinkToken({ mode: 'update', itemId: linked.itemId })),
            aliceUpdates: await settle(
              asAlice
                .createLinkToken({ mode: 'update', itemId: linked.itemId })
                .then((t: { linkToken: string }) => t.linkToken.slice(0, 13)),
            ),
            aliceRemoves: await settle(asAlice.removeItem(linked.itemId)),
            removedAgain: await settle(asAlice.removeItem(linked.itemId)),
            aliceAfter: await asAlice.listItems(),
          };
        },
        { apiBase: apiOrigin, alice, bob, tokens },
      );
      assert.deepEqual(
        { ...outcomes.linked, itemId: undefined },
        { itemId: undefined, created: true, name: 'First Platypus Bank', createdAtIsDate: true },
      );
      // The same public token again (a retry) is the same Item, not created twice.
      const again = outcomes.spent as { ok: boolean; value?: { itemId: string; created: boolean } };
      assert.equal(again.ok, true);
      assert.equal(again.value?.created, false);
      assert.deepEqual(outcomes.duplicate, {
        ok: false,
        name: 'ItemConflictError',
        kind: 'item-conflict',
        status: 409,
        existingItemId: outcomes.linked.itemId,
        fields: [],
      });
      assert.deepEqual(outcomes.aliceList, [{ itemId: outcomes.linked.itemId, updated: true }]);
      assert.deepEqual(outcomes.bobList, [], "another user's Items are not listed");
      for (const attempt of [outcomes.bobRemoves, outcomes.bobUpdates, outcomes.removedAgain]) {
        assert.deepEqual(attempt, {
          ok: false,
          name: 'ItemNotFoundError',
          kind: 'item-not-found',
          status: 404,
          existingItemId: undefined,
          fields: [],
        });
      }
      assert.deepEqual(outcomes.aliceUpdates, { ok: true, value: 'link-sandbox-' });
      assert.deepEqual(outcomes.aliceRemoves, { ok: true, value: undefined });
      assert.deepEqual(outcomes.aliceAfter, []);
      assert.equal(stack.plaid!.item(outcomes.linked.itemId)?.removed, true);
      assert.deepEqual(s.pageErrors, []);
    } finally {
      await s.net.detach();
      await s.context.close();
    }
  },
);

browserTest(
  "with network access the demo loads Plaid's real Link script and hands it the token",
  { timeout: 60_000 },
  async (t) => {
    const script = 'https://cdn.plaid.com/link/v2/stable/link-initialize.js';
    const online = await fetch(script, { method: 'HEAD', signal: AbortSignal.timeout(3000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (!online && process.env.DEMO_LINK_SCRIPT_CHECK !== 'stand-in') {
      t.skip(`offline: ${script} is unreachable, so only the stand-in runs (above)`);
      return;
    }
    const s = await openSession();
    try {
      const { page } = s;
      // DEMO_LINK_SCRIPT_CHECK=stand-in runs this same path offline, to keep it honest.
      const query = online ? '' : '&plaid_link=stand-in';
      await page.goto(`${pageOrigin}/?api=${encodeURIComponent(apiOrigin)}${query}`);
      await page.waitForFunction(
        () => typeof (window as unknown as { Plaid?: { create?: unknown } }).Plaid?.create === 'function',
      );
      // Record what the page hands to Plaid.create, whichever script defined it.
      await page.evaluate(() => {
        const w = window as unknown as {
          Plaid: { create: (config: Record<string, unknown>) => unknown };
          plaidCreateCalls: unknown[];
        };
        const original = w.Plaid.create.bind(w.Plaid);
        w.plaidCreateCalls = [];
        w.Plaid.create = (config) => {
          w.plaidCreateCalls.push({
            token: config.token,
            callbacks: Object.keys(config)
              .filter((k) => typeof config[k] === 'function')
              .sort(),
          });
          return original(config);
        };
      });
      await page.click('#sign-in');
      await page.waitForSelector('#status[data-kind="signed-in"]');
      await page.click('#get-token');
      await page.waitForFunction(
        () => (window as unknown as { plaidCreateCalls: unknown[] }).plaidCreateCalls.length > 0,
      );
      const [call] = (await page.evaluate(
        () => (window as unknown as { plaidCreateCalls: unknown[] }).plaidCreateCalls,
      )) as { token: string; callbacks: string[] }[];
      const shown = JSON.parse((await page.textContent('#result')) ?? '{}') as { link_token: string };
      assert.equal(call!.token, shown.link_token);
      assert.deepEqual(call!.callbacks, ['onExit', 'onSuccess']);
      console.log(
        `Plaid Link script ${online ? script : '(stand-in)'} got Plaid.create({ token: ${call!.token.slice(0, 20)}…, onSuccess, onExit }).`,
      );
    } finally {
      await s.net.detach();
      await s.context.close();
    }
  },
);

/** Serves the demo page (and its dev sign-in) on a new loopback port by forwarding to the stack. */
async function startPageProxy(targetPort: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://proxy').pathname;
    const forwarded = req.method === 'GET' || (req.method === 'POST' && path === '/dev/token');
    if (!forwarded) {
      res.writeHead(404).end();
      return;
    }
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: targetPort,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: `127.0.0.1:${targetPort}` },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

browserTest(
  'Hosted Link: the page gets a hosted link token, the session ends at Plaid, the service adds the Item from the LINK webhooks, and no public token reaches the page',
  { timeout: 60_000 },
  async () => {
    const plaid = stack.plaid!;
    const user = `hosted-user-${Date.now()}`;
    const s = await openSession();
    const { page, net } = s;
    try {
      await page.goto(`${pageOrigin}/?api=${encodeURIComponent(apiOrigin)}&plaid_link=stand-in&user=${user}`);
      await page.click('#sign-in');
      await page.waitForSelector('#status[data-kind="signed-in"]');
      await page.waitForSelector('#items-status[data-kind="listed"]', { state: 'attached' });
      assert.deepEqual(await itemRows(page), []);
      const exchangesBefore = plaid.callsTo('/item/public_token/exchange');
      const deliveriesBefore = plaid.deliveries.length;

      await page.click('#hosted-link');
      await page.waitForSelector('#hosted-status[data-kind="hosted-linked"]', { timeout: 20_000 });

      // The link token was of the hosted profile: Hosted Link, the service's own receiver as webhook.
      const shown = JSON.parse((await page.textContent('#result')) ?? '{}') as {
        link_token: string;
        hosted_link_url: string;
        profile: string;
      };
      assert.equal(shown.profile, 'hosted');
      assert.match(shown.hosted_link_url, /^https:\/\/secure\.plaid\.com\/hl\//);
      const session = plaid.linkSession(shown.link_token)!;
      assert.equal(session.hosted_link, true);
      assert.equal(session.webhook, `${apiOrigin}/webhooks/plaid/demo`);
      assert.deepEqual(
        session.sessions.map((run) => [run.status, run.institution_ids]),
        [['SUCCESS', ['ins_109510']]],
      );
      const sessionId = await page.$eval('#hosted-status', (p) => (p as HTMLElement).dataset.sessionId);
      assert.equal(sessionId, session.sessions[0]!.link_session_id);

      // Plaid's LINK webhooks reached the service, which answered each and exchanged the public token itself.
      const sent = plaid.deliveries.slice(deliveriesBefore).filter((d) => d.url === session.webhook);
      assert.deepEqual(
        sent.map((d) => [JSON.parse(d.body).webhook_code, d.status]),
        [
          ['ITEM_ADD_RESULT', 200],
          ['SESSION_FINISHED', 200],
        ],
      );
      assert.equal(
        plaid.callsTo('/item/public_token/exchange'),
        exchangesBefore + 1,
        'exchanged once, not per webhook',
      );

      // The new Item is listed, live at Plaid, with the service's webhook.
      const rows = await itemRows(page);
      assert.deepEqual(
        rows.map((r) => [r.name, r.status]),
        [['Tattersall Federal Credit Union', 'healthy']],
      );
      const item = plaid.item(rows[0]!.itemId)!;
      assert.deepEqual([item.removed, item.webhook, item.institution_id], [false, session.webhook, 'ins_109510']);
      assert.match(
        (await page.textContent('#hosted-status')) ?? '',
        new RegExp(`^Linked Tattersall Federal Credit Union through Hosted Link \\(Item ${rows[0]!.itemId}\\)\\.$`),
      );

      // The public token went from Plaid to the service only: not in the page, its storage or anything it fetched.
      await net.settled();
      const publicTokens = sent.flatMap((d) => {
        const body = JSON.parse(d.body) as { public_token?: string; public_tokens?: string[] };
        return [body.public_token, ...(body.public_tokens ?? [])].filter((t): t is string => Boolean(t));
      });
      assert.equal(new Set(publicTokens).size, 1);
      const wire = net.exchanges.map((x) => `${x.url}\n${JSON.stringify(x.responseHeaders)}\n${x.body ?? ''}`);
      const storage = await page.evaluate(
        () => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }),
      );
      for (const [where, text] of [
        ['page', await page.content()],
        ['storage', storage],
        ['network responses', wire.join('\n')],
        ['console', s.console.join('\n')],
      ] as const) {
        assert.doesNotMatch(text, /public-sandbox-/, `no public token in the ${where}`);
      }
      assert.deepEqual(s.pageErrors, []);
    } finally {
      await net.detach();
      await s.context.close();
    }
  },
);

browserTest(
  'Delete my data: DELETE /me removes every Item at Plaid and the list empties',
  { timeout: 60_000 },
  async () => {
    const plaid = stack.plaid!;
    const user = `erasure-user-${Date.now()}`;
    const s = await openSession();
    const { page, net } = s;
    try {
      await page.goto(`${pageOrigin}/?api=${encodeURIComponent(apiOrigin)}&plaid_link=stand-in&user=${user}`);
      await page.click('#sign-in');
      await page.waitForSelector('#status[data-kind="signed-in"]');
      for (const [button, count] of [
        ['success', 1],
        ['success-other', 2],
      ] as const) {
        await page.click('#get-token');
        await page.click(`[data-stand-in="${button}"]`);
        await page.waitForFunction((n) => document.querySelectorAll('#items li').length === n, count);
      }
      const itemIds = (await itemRows(page)).map((r) => r.itemId);
      const removalsBefore = plaid.callsTo('/item/remove');

      await page.click('#delete-me');
      await page.waitForSelector('#status[data-kind="deleted"]');
      assert.equal((await page.textContent('#status')) ?? '', 'Deleted: your Items and your Plaid user are gone.');
      assert.deepEqual(await itemRows(page), []);
      assert.equal(await page.textContent('#items-empty'), 'Your data is deleted: no Items.');

      // One DELETE /me, cross-origin after its preflight, with the bearer token, answered 204.
      const deletes = net.to(`${apiOrigin}/me`, 'DELETE');
      assert.equal(deletes.length, 1);
      assert.equal(deletes[0]!.status, 204);
      assert.match(deletes[0]!.requestHeaders.authorization ?? '', /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
      const preflight = net.to(`${apiOrigin}/me`, 'OPTIONS');
      assert.equal(preflight.length, 1);
      assert.match(preflight[0]!.responseHeaders['access-control-allow-methods'] ?? '', /\bDELETE\b/);

      // Gone at Plaid, each Item removed once; and the list stays empty on the next look.
      assert.deepEqual(
        itemIds.map((id) => plaid.item(id)?.removed),
        [true, true],
      );
      assert.equal(plaid.callsTo('/item/remove'), removalsBefore + 2);
      await page.click('#refresh-items');
      await page.waitForSelector('#items-status[data-kind="listed"]', { state: 'attached' });
      assert.deepEqual(await itemRows(page), []);
      assert.deepEqual(s.pageErrors, []);
    } finally {
      await net.detach();
      await s.context.close();
    }
  },
);
