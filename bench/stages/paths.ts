// `npm run bench:paths`: the function's routes, a baseline commit's build (BENCH_BASELINE) against
// the current one, side by side in one run, interleaved, on loopback:
//   1. the cold path of a new link token (fresh process → import/init → first POST /link-token),
//      prefetch at init off and on, with a tenants file both builds accept;
//   2. warm CPU and duration per new link token, in process, one request at a time, 256 users'
//      tokens cycled, CPU from process.cpuUsage around each invocation, batches alternating;
//   3–4. cold and warm figures of POST /items (a fresh public token each time), GET /items,
//      update-mode link tokens, new link tokens and verified webhooks (signed by the Plaid stand-in,
//      published to the EventBridge stand-in), the vault on dynalite and the KMS stand-in, with the
//      demo tenant; a baseline that does not serve these routes is shown as such.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProduct, commitTree, type Built } from '../lib/builds.ts';
import {
  describeTree,
  fmt,
  keyed,
  log,
  machineLine,
  mdTable,
  mean,
  median,
  percentile,
  ratio,
  round,
  type Machine,
} from '../lib/harness.ts';
import { coldStart, startWorker, type ColdStart, type Req, type Worker } from '../lib/processes.ts';
import { BENCH_ORIGIN, demoTenants, lambdaEnv, linkTokenReq, type StandIns } from '../lib/standins.ts';

const SIDES = ['baseline', 'current'] as const;
type Side = (typeof SIDES)[number];
const ROUTES = ['POST /items', 'GET /items', 'update-mode link token', 'new link token', 'webhook'] as const;
type Route = (typeof ROUTES)[number];
const TOKEN_POOL = 256;
const ITEM_USERS = 32;
const INSTITUTION = 'ins_109508';

export interface PathsConfig {
  coldRuns: number;
  warmRounds: number;
  warmBatch: number;
  baseline: string;
  currentRoot: string;
}

interface ColdFigures {
  n: number;
  totalMs: number;
  totalP90: number;
  importMs: number;
  firstInvokeMs: number;
  peakRssMb: number;
}
interface WarmFigures {
  n: number;
  wallP50: number;
  wallP99: number;
  cpuP50: number;
  cpuMean: number;
}

export interface PathsSummary {
  meta: Machine & { baseline: string; current: string; indexKb: Record<Side, number> };
  config: Omit<PathsConfig, 'currentRoot'>;
  linkTokenCold: Record<`${Side}/${'on' | 'off'}`, ColdFigures>;
  linkTokenWarm: Record<Side, WarmFigures> & { medianOfRoundCpuMeanRatios: number };
  /** Per route and side; a side missing here does not serve the route. */
  routes: Record<Route, Partial<Record<Side, { cold: ColdFigures; warm: WarmFigures }>>>;
  webhooksPublished: number;
}

const coldFigures = (s: ColdStart[]): ColdFigures => ({
  n: s.length,
  totalMs: round(median(s.map((x) => x.totalMs)), 2),
  totalP90: round(
    percentile(
      s.map((x) => x.totalMs),
      0.9,
    ),
    2,
  ),
  importMs: round(median(s.map((x) => x.importMs)), 2),
  firstInvokeMs: round(median(s.map((x) => x.firstInvokeMs)), 2),
  peakRssMb: round(median(s.map((x) => x.peakRssKb)) / 1024, 1),
});
const warmFigures = (wall: number[], cpu: number[]): WarmFigures => ({
  n: wall.length,
  wallP50: round(percentile(wall, 0.5), 4),
  wallP99: round(percentile(wall, 0.99), 4),
  cpuP50: round(percentile(cpu, 0.5), 4),
  cpuMean: round(mean(cpu), 4),
});

const authed = (token: string) => ({ authorization: `Bearer ${token}`, origin: BENCH_ORIGIN });

export async function runPaths(
  s: StandIns,
  workDir: string,
  config: PathsConfig,
  meta: Machine,
): Promise<PathsSummary> {
  mkdirSync(workDir, { recursive: true });
  const vault = s.vault!;
  // The demo tenant, and the same with a plain webhook URL and without Hosted Link, which builds
  // from before the items settings and webhook "service" also accept.
  const service = demoTenants(s);
  const compat = structuredClone(service);
  const { default: first, payments } = compat.tenants.demo!.profiles;
  compat.tenants.demo!.profiles = {
    default: { ...first!, webhook: 'https://webhooks.example.com/plaid' },
    payments: payments!,
  };
  const files = { compat: join(workDir, 'tenants-compat.json'), service: join(workDir, 'tenants-service.json') };
  writeFileSync(files.compat, JSON.stringify(compat));
  writeFileSync(files.service, JSON.stringify(service));
  const roots: Record<Side, string> = {
    baseline: commitTree(config.baseline, join(workDir, 'baseline-src')),
    current: config.currentRoot,
  };
  log(`building the current bundle (${config.currentRoot}) and the baseline's (${config.baseline})`);
  const builds = {} as Record<Side, { compat: Built; service?: Built }>;
  for (const side of SIDES) {
    builds[side] = { compat: buildProduct(roots[side], join(workDir, side, 'compat'), files.compat) };
    try {
      builds[side].service = buildProduct(roots[side], join(workDir, side, 'service'), files.service);
    } catch {
      log(`${side}: its build refuses the items tenants file: no items or webhook figures for it`);
    }
  }
  const env = lambdaEnv(s);
  const itemsEnv = {
    ...env,
    PUBLIC_BASE_URL: 'https://api.example.com',
    AWS_ENDPOINT_URL_DYNAMODB: vault.dynamodbUrl,
    ITEMS_TABLE_NAME: vault.itemsTable,
    AWS_ENDPOINT_URL_KMS: vault.kmsUrl,
    VAULT_KMS_KEY_ID: vault.kmsKeyArn,
    AWS_ENDPOINT_URL_EVENTBRIDGE: vault.eventsUrl,
    WEBHOOK_BUS_NAME: vault.busName,
  };
  const tokens = await s.mint(Array.from({ length: TOKEN_POOL }, (_, i) => `bench-user-${i}`));
  let fresh = 0;
  const freshUsers = (n: number) => s.mint(Array.from({ length: n }, () => `new-user-${fresh++}`));
  const publicTokens = async (n: number) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${s.plaidUrl}/sandbox/public_token/create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          ...s.plaidCredentials,
          institution_id: INSTITUTION,
          initial_products: ['transactions'],
        }),
      });
      if (!res.ok) throw new Error(`public_token/create: ${res.status} ${await res.text()}`);
      out.push(((await res.json()) as { public_token: string }).public_token);
    }
    return out;
  };

  // 1. Cold path of a new link token, baseline and current alternating, prefetch off and on.
  log(
    `cold path of a new link token: ${config.coldRuns} fresh processes per build and prefetch setting (+1 discarded), alternating`,
  );
  const cold = { 'baseline/off': [], 'current/off': [], 'baseline/on': [], 'current/on': [] } as Record<
    keyof PathsSummary['linkTokenCold'],
    ColdStart[]
  >;
  for (let i = -1; i < config.coldRuns; i++) {
    for (const prefetch of ['off', 'on'] as const) {
      for (const side of i % 2 ? SIDES : [...SIDES].reverse()) {
        const sample = await coldStart(
          builds[side].compat.handlerFile,
          { ...env, INIT_PREFETCH: prefetch },
          linkTokenReq(tokens[(i + 1) % TOKEN_POOL]!),
          { label: side },
        );
        if (i >= 0) cold[`${side}/${prefetch}`].push(sample);
      }
    }
    if (i % 8 === 7) await s.reset();
  }

  // 2. Warm new link token, baseline and current, batches alternating.
  log(`warm new link token: ${config.warmRounds} rounds of ${config.warmBatch} invocations per build, alternating`);
  let cursor = 0;
  const linkTokens = () => Array.from({ length: config.warmBatch }, () => linkTokenReq(tokens[cursor++ % TOKEN_POOL]!));
  const warm = keyed(SIDES, () => ({ wall: [] as number[], cpu: [] as number[], roundMeans: [] as number[] }));
  const workers: Partial<Record<Side, Worker>> = {};
  try {
    for (const side of SIDES) {
      workers[side] = await startWorker(side, builds[side].compat.handlerFile, env);
      await workers[side].run(linkTokens());
    }
    for (let round = 0; round < config.warmRounds; round++) {
      for (const side of round % 2 ? [...SIDES].reverse() : SIDES) {
        const b = await workers[side]!.run(linkTokens(), { perInvocationCpu: true });
        warm[side].wall.push(...b.wallMs);
        warm[side].cpu.push(...b.cpuMsEach);
        warm[side].roundMeans.push(mean(b.cpuMsEach));
      }
      await s.reset();
    }
  } finally {
    for (const w of Object.values(workers)) await w.close();
  }

  // 3 and 4. Items routes and webhooks, each side with Items of its own users.
  const sides = SIDES.filter((side) => builds[side].service);
  const items: Partial<Record<Side, { worker: Worker; users: string[]; itemIds: string[] }>> = {};
  let hook = 0;
  const webhooks = async (side: Side, n: number): Promise<Req[]> => {
    // Distinct bodies: a replay of an already processed body is acknowledged without the work.
    const ids = items[side]!.itemIds;
    const bodies = Array.from({ length: n }, () =>
      JSON.stringify(
        {
          environment: 'sandbox',
          item_id: ids[hook % ids.length],
          new_transactions: hook++,
          webhook_code: 'DEFAULT_UPDATE',
          webhook_type: 'TRANSACTIONS',
        },
        null,
        2,
      ),
    );
    const signatures = await s.signWebhooks(bodies);
    return bodies.map((body, i) => ({
      method: 'POST',
      path: '/webhooks/plaid/demo',
      headers: {
        'content-type': 'application/json',
        'plaid-verification': signatures[i]!,
        'user-agent': 'Plaid Verifier',
      },
      body,
    }));
  };
  let next = 0;
  const request: Record<Route, (side: Side, n: number) => Req[] | Promise<Req[]>> = {
    'POST /items': async (_, n) => {
      const [users, pts] = await Promise.all([freshUsers(n), publicTokens(n)]);
      return users.map((t, i) => ({
        method: 'POST',
        path: '/items',
        headers: authed(t),
        body: JSON.stringify({ public_token: pts[i] }),
      }));
    },
    'GET /items': (side, n) =>
      Array.from({ length: n }, () => ({
        method: 'GET',
        path: '/items',
        headers: authed(items[side]!.users[next++ % ITEM_USERS]!),
      })),
    'update-mode link token': (side, n) =>
      Array.from({ length: n }, () => {
        const u = next++ % ITEM_USERS;
        return linkTokenReq(items[side]!.users[u]!, BENCH_ORIGIN, {
          platform: 'web',
          mode: 'update',
          item_id: items[side]!.itemIds[u],
        });
      }),
    'new link token': (_, n) => Array.from({ length: n }, () => linkTokenReq(tokens[next++ % TOKEN_POOL]!)),
    webhook: webhooks,
  };
  const expect = (route: Route) => (route === 'POST /items' ? 201 : 200);
  const coldItems = keyed(ROUTES, () => keyed(SIDES, () => [] as ColdStart[]));
  const warmItems = keyed(ROUTES, () => keyed(SIDES, () => ({ wall: [] as number[], cpu: [] as number[] })));
  let webhooksSent = 0;
  try {
    for (const side of [...sides]) {
      log(`items and webhooks (${side}): linking one Item for each of ${ITEM_USERS} users`);
      try {
        const worker = await startWorker(side, builds[side].service!.handlerFile, itemsEnv);
        items[side] = {
          worker,
          users: await s.mint(Array.from({ length: ITEM_USERS }, (_, i) => `items-${side}-${i}`)),
          itemIds: [],
        };
        const pts = await publicTokens(ITEM_USERS);
        const linked = await worker.run(
          items[side].users.map((t, i) => ({
            method: 'POST',
            path: '/items',
            headers: authed(t),
            body: JSON.stringify({ public_token: pts[i] }),
          })),
          { expect: 201, keepBodies: true },
        );
        items[side].itemIds = linked.bodies.map((b) => (JSON.parse(b) as { item_id: string }).item_id);
      } catch (error) {
        log(
          `${side} does not serve the items routes (${(error as Error).message.slice(0, 200)}): no items or webhook figures for it`,
        );
        await items[side]?.worker.close();
        delete items[side];
        sides.splice(sides.indexOf(side), 1);
      }
    }
    log(
      `cold items routes and webhooks: ${config.coldRuns} fresh processes per route and build (+1 discarded), alternating`,
    );
    for (let i = -1; i < config.coldRuns; i++) {
      for (const side of i % 2 ? sides : [...sides].reverse()) {
        for (const route of i % 2 ? [...ROUTES].reverse() : ROUTES) {
          const [req] = await request[route](side, 1);
          const sample = await coldStart(builds[side].service!.handlerFile, itemsEnv, req!, {
            status: expect(route),
            label: `${side} ${route}`,
          });
          if (i >= 0) coldItems[route][side].push(sample);
        }
      }
      if (i % 8 === 7) await s.reset();
    }
    log(
      `warm items routes and webhooks: ${config.warmRounds} rounds of ${config.warmBatch} invocations per route and build, interleaved`,
    );
    for (const side of sides)
      for (const route of ROUTES)
        await items[side]!.worker.run(await request[route](side, 50), { expect: expect(route) });
    const eventsBefore = (await s.counters()).events;
    for (let round = 0; round < config.warmRounds; round++) {
      for (const route of round % 2 ? [...ROUTES].reverse() : ROUTES) {
        for (const side of round % 2 ? [...sides].reverse() : sides) {
          const reqs = await request[route](side, config.warmBatch);
          const b = await items[side]!.worker.run(reqs, { expect: expect(route), perInvocationCpu: true });
          warmItems[route][side].wall.push(...b.wallMs);
          warmItems[route][side].cpu.push(...b.cpuMsEach);
          if (route === 'webhook') webhooksSent += reqs.length;
        }
      }
      const events = (await s.counters()).events - eventsBefore;
      if (events < webhooksSent) throw new Error(`only ${events} events on the bus for ${webhooksSent} webhooks`);
    }
  } finally {
    for (const x of Object.values(items)) await x.worker.close();
  }

  const lt = Object.fromEntries(
    Object.entries(cold).map(([k, v]) => [k, coldFigures(v)]),
  ) as PathsSummary['linkTokenCold'];
  return {
    meta: {
      ...meta,
      baseline: config.baseline,
      current: describeTree(config.currentRoot),
      indexKb: {
        baseline: round(builds.baseline.compat.bytes / 1000, 1),
        current: round(builds.current.compat.bytes / 1000, 1),
      },
    },
    config: {
      coldRuns: config.coldRuns,
      warmRounds: config.warmRounds,
      warmBatch: config.warmBatch,
      baseline: config.baseline,
    },
    linkTokenCold: lt,
    linkTokenWarm: {
      baseline: warmFigures(warm.baseline.wall, warm.baseline.cpu),
      current: warmFigures(warm.current.wall, warm.current.cpu),
      medianOfRoundCpuMeanRatios: round(
        median(warm.current.roundMeans.map((c, i) => c / warm.baseline.roundMeans[i]!)),
        4,
      ),
    },
    routes: Object.fromEntries(
      ROUTES.map((route) => [
        route,
        Object.fromEntries(
          sides.map((side) => [
            side,
            {
              cold: coldFigures(coldItems[route][side]),
              warm: warmFigures(warmItems[route][side].wall, warmItems[route][side].cpu),
            },
          ]),
        ),
      ]),
    ) as PathsSummary['routes'],
    webhooksPublished: webhooksSent,
  };
}

export function pathsMarkdown(r: PathsSummary): string {
  const lt = r.linkTokenCold;
  const w = r.linkTokenWarm;
  const sideBySide = (label: string, b: number, c: number, digits = 1) => [
    label,
    fmt(b, digits),
    fmt(c, digits),
    ratio(c, b),
  ];
  const coldRows = (['on', 'off'] as const).flatMap((p) => {
    const [b, c] = [lt[`baseline/${p}`], lt[`current/${p}`]];
    return [
      sideBySide(`prefetch ${p}: spawn → first token, median (ms)`, b.totalMs, c.totalMs),
      sideBySide(`prefetch ${p}: p90 (ms)`, b.totalP90, c.totalP90),
      sideBySide(`prefetch ${p}: import + init, median (ms)`, b.importMs, c.importMs),
      sideBySide(`prefetch ${p}: first invocation, median (ms)`, b.firstInvokeMs, c.firstInvokeMs),
      sideBySide(`prefetch ${p}: peak RSS after first token, median (MB)`, b.peakRssMb, c.peakRssMb),
    ];
  });
  const warmRows = [
    sideBySide('CPU per invocation, median (ms)', w.baseline.cpuP50, w.current.cpuP50, 3),
    sideBySide('CPU per invocation, mean (ms)', w.baseline.cpuMean, w.current.cpuMean, 3),
    [
      `CPU mean ratio, median of the ${r.config.warmRounds} paired batches`,
      '',
      '',
      fmt(w.medianOfRoundCpuMeanRatios, 3),
    ],
    sideBySide('Duration p50 (ms)', w.baseline.wallP50, w.current.wallP50, 3),
    sideBySide('Duration p99 (ms)', w.baseline.wallP99, w.current.wallP99, 3),
  ];
  const figures = (x: { cold: ColdFigures; warm: WarmFigures }) => [
    x.cold.totalMs,
    x.cold.totalP90,
    x.cold.importMs,
    x.cold.firstInvokeMs,
    x.cold.peakRssMb,
    x.warm.wallP50,
    x.warm.wallP99,
    x.warm.cpuP50,
    x.warm.cpuMean,
  ];
  const digits = [1, 1, 1, 1, 1, 3, 3, 3, 3];
  const routeRows = ROUTES.flatMap((route) => {
    const { baseline, current } = r.routes[route];
    const row = (side: string, x?: { cold: ColdFigures; warm: WarmFigures }) =>
      x
        ? [route, side, ...figures(x).map((v, i) => fmt(v, digits[i])), String(x.warm.n)]
        : [route, `${side}: not served`, ...Array<string>(9).fill('—'), ''];
    const ratios =
      baseline && current
        ? [[route, 'current/baseline', ...figures(current).map((v, i) => ratio(v, figures(baseline)[i])), '']]
        : [];
    return [row('baseline', baseline), ...(current ? [row('current', current)] : []), ...ratios];
  });
  return [
    '# Paths benchmark (`npm run bench:paths`)',
    '',
    `Run of ${machineLine(r.meta)}.`,
    `Baseline ${r.meta.baseline} (index.mjs ${fmt(r.meta.indexKb.baseline)} kB) against current ${r.meta.current} (index.mjs ${fmt(r.meta.indexKb.current)} kB). Medians; the machine is shared, compare ratios within this run.`,
    '',
    `## 1. Cold path of a new link token (fresh process → import/init → first POST /link-token), ${lt['current/on'].n} runs each, alternating`,
    '',
    mdTable(['', 'baseline', 'current', 'current/baseline'], coldRows),
    '',
    `## 2. Warm new link token, in process, one at a time, ${TOKEN_POOL} users' tokens, ${w.current.n} invocations each (${r.config.warmRounds} alternating batches)`,
    '',
    mdTable(['', 'baseline', 'current', 'current/baseline'], warmRows),
    '',
    '## 3–4. Items routes and webhooks (vault on dynalite + KMS stand-in, bus on the EventBridge stand-in), baseline against current',
    '',
    mdTable(
      [
        'route',
        'build',
        'cold: spawn → first answer, median (ms)',
        'cold p90 (ms)',
        'cold import + init (ms)',
        'cold first invocation (ms)',
        'cold peak RSS (MB)',
        'warm duration p50 (ms)',
        'warm p99 (ms)',
        'warm CPU median (ms)',
        'warm CPU mean (ms)',
        'warm n',
      ],
      routeRows,
    ),
    '',
    `Cold runs here use prefetch at init on (the default) and the demo tenant (webhook "service", vault and bus configured); the "new link token" row is the same cold start in that configuration, for comparison. Webhooks: TRANSACTIONS DEFAULT_UPDATE bodies, each distinct (no replay short-cut), signed ES256 by the Plaid stand-in, verified (key fetched once per process, then cached), the Item looked up and the event published: ${r.webhooksPublished} warm webhooks, every one on the bus.`,
    '',
  ].join('\n');
}
