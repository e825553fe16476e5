// The tenant-count sweep: for 1, 10, 100 and 1,000 generated tenants (bench/lib/tenants-gen.ts),
// each with its own issuer, audience, origin and Plaid credentials secret, the product is built by
// its tree's own build with that tenants file, and each cold start is a fresh process → one POST
// /link-token for a random tenant's new user, the JWKS and every Secrets Manager read answering
// after the round trip. Per tree, count and prefetch setting: medians of spawn → response, of the
// first request, of the upstream calls of that cold start (counted at the stand-ins) and of peak
// RSS. Cells interleaved run by run in a rotating order. Several trees side by side (and the stack
// floor beside them) is `npm run bench:tenants:trees`.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { validateTenantsFile } from '../../lambda/config/load-tenants.ts';
import { buildFloor, buildProduct, type Built } from '../lib/builds.ts';
import { describeTree, fmt, log, mdTable, median, percentile, ratio, round } from '../lib/harness.ts';
import { coldStart, type ColdStart } from '../lib/processes.ts';
import { lambdaEnv, linkTokenReq, type Counters, type StandIns } from '../lib/standins.ts';
import {
  generateTenantsFile,
  sweepSchedule,
  tenantAudience,
  tenantOrigin,
  tenantPlaidSecretId,
} from '../lib/tenants-gen.ts';

export interface Tree {
  name: string;
  root: string;
  /** Settings of the function that differ for this tree (e.g. INIT_PREFETCH). */
  env?: Record<string, string>;
}

export interface SweepConfig {
  trees: Tree[];
  counts: number[];
  runs: number;
  prefetch: Array<'on' | 'off'>;
  rttMs: number;
  /** Adds the stack floor (contenders/floor-handler.ts) at the smallest count. */
  floor: boolean;
}

export interface SweepCell {
  tree: string;
  tenants: number;
  prefetch: 'on' | 'off';
  runs: number;
  coldMs: number;
  coldP90Ms: number;
  importMs: number;
  firstRequestMs: number;
  cpuMs: number;
  jwksFetches: number;
  jwksFetchesMax: number;
  secretsReads: number;
  secretsReadsMax: number;
  peakRssMb: number;
  bundleKb: number;
}

export interface SweepResult {
  trees: Array<{ name: string; root: string; commit: string }>;
  rttMs: number;
  runs: number;
  cells: SweepCell[];
}

export async function runSweep(standIns: StandIns, workDir: string, config: SweepConfig): Promise<SweepResult> {
  await standIns.seed(Math.max(...config.counts));
  const bundles = new Map<string, Built & { tree: Tree; count: number }>();
  for (const count of config.counts) {
    const file = generateTenantsFile(count, standIns.issuersUrl);
    // The schema this checkout ships accepts it; each tree's build and cold start check it again.
    validateTenantsFile(file, `generated ${count} tenants`);
    const tenantsFile = join(workDir, `tenants-${count}.json`);
    mkdirSync(workDir, { recursive: true });
    writeFileSync(tenantsFile, JSON.stringify(file));
    for (const tree of config.trees) {
      log(`building the product of ${tree.name} (${tree.root}) with ${count} tenant(s)`);
      const built = buildProduct(tree.root, join(workDir, tree.name, String(count)), tenantsFile);
      bundles.set(`${tree.name}/${count}`, { ...built, tree, count });
    }
  }
  if (config.floor) {
    const tree = { name: 'stack floor', root: config.trees[0]!.root };
    const count = Math.min(...config.counts);
    bundles.set(`floor/${count}`, { ...(await buildFloor(tree.root, join(workDir, 'floor'))), tree, count });
  }

  const env = lambdaEnv(standIns);
  const once = async (b: Built & { tree: Tree; count: number }, prefetch: 'on' | 'off') => {
    // A random tenant, a new user: nothing of a previous run can help this cold start.
    const tenant = Math.floor(Math.random() * b.count);
    const [token] = await standIns.mint([`sweep-user-${Math.random().toString(36).slice(2)}`], {
      issuer: tenant,
      claims: { aud: tenantAudience(tenant) },
    });
    await standIns.reset();
    const cold = await coldStart(
      b.handlerFile,
      { ...env, INIT_PREFETCH: prefetch, FLOOR_SECRET_ID: tenantPlaidSecretId(tenant), ...b.tree.env },
      linkTokenReq(token!, tenantOrigin(tenant)),
      { label: `${b.tree.name}, ${b.count} tenants, prefetch ${prefetch}` },
    );
    return { cold, calls: await standIns.counters() };
  };

  const samples = new Map<string, Array<{ cold: ColdStart; calls: Counters }>>();
  await standIns.setUpstreamLatency(config.rttMs);
  try {
    // One discarded pass: the first start of each bundle pays for reading it from disk.
    for (const b of bundles.values()) await once(b, config.prefetch[0]!);
    const schedule = sweepSchedule(config.runs, [...bundles.keys()], config.prefetch);
    log(`${schedule.length} cold starts, interleaved, ${config.rttMs} ms JWKS and Secrets Manager round trips`);
    for (const { count: key, prefetch } of schedule) {
      const sample = await once(bundles.get(key)!, prefetch);
      samples.set(`${key}/${prefetch}`, [...(samples.get(`${key}/${prefetch}`) ?? []), sample]);
    }
  } finally {
    await standIns.setUpstreamLatency(0);
    await standIns.reset();
  }

  const cells: SweepCell[] = [];
  for (const [key, b] of bundles) {
    for (const prefetch of config.prefetch) {
      const s = samples.get(`${key}/${prefetch}`) ?? [];
      const m = (f: (x: { cold: ColdStart; calls: Counters }) => number) => median(s.map(f));
      const most = (f: (x: Counters) => number) => Math.max(...s.map((x) => f(x.calls)));
      cells.push({
        tree: b.tree.name,
        tenants: b.count,
        prefetch,
        runs: s.length,
        coldMs: round(
          m((x) => x.cold.totalMs),
          2,
        ),
        coldP90Ms: round(
          percentile(
            s.map((x) => x.cold.totalMs),
            0.9,
          ),
          2,
        ),
        importMs: round(
          m((x) => x.cold.importMs),
          2,
        ),
        firstRequestMs: round(
          m((x) => x.cold.firstInvokeMs),
          2,
        ),
        cpuMs: round(
          m((x) => x.cold.cpuMs),
          1,
        ),
        jwksFetches: m((x) => x.calls.jwks),
        jwksFetchesMax: most((c) => c.jwks),
        secretsReads: m((x) => x.calls.secrets),
        secretsReadsMax: most((c) => c.secrets),
        peakRssMb: round(m((x) => x.cold.peakRssKb) / 1024, 1),
        bundleKb: round(b.bytes / 1000, 1),
      });
    }
  }
  cells.sort((a, b) => a.tenants - b.tenants || (a.prefetch === b.prefetch ? 0 : a.prefetch === 'on' ? -1 : 1));
  const trees = config.trees.map((t) => ({ name: t.name, root: t.root, commit: describeTree(t.root) }));
  return { trees, rttMs: config.rttMs, runs: config.runs, cells };
}

/** One row per count and prefetch setting; with several trees, one per tree too, and the ratio to its fewest tenants. */
export function sweepMarkdown(r: SweepResult): string {
  const many = r.cells.some((c) => c.tree !== r.trees[0]?.name);
  const fewest = (c: SweepCell) =>
    r.cells.filter((x) => x.tree === c.tree && x.prefetch === c.prefetch).sort((a, b) => a.tenants - b.tenants)[0];
  const header = [
    ...(many ? ['tree'] : []),
    'tenants',
    'prefetch',
    'spawn → first token (ms)',
    'p90 (ms)',
    'first request, invoke → response (ms)',
    'JWKS fetches per cold start (max)',
    'Secrets Manager reads (max)',
    'peak RSS (MB)',
    'index.mjs (kB)',
    ...(many ? ['CPU per cold start (ms)', 'vs fewest tenants'] : []),
  ];
  const rows = [...r.cells]
    .sort((a, b) => (many ? a.tree.localeCompare(b.tree) : 0))
    .map((c) => [
      ...(many ? [c.tree] : []),
      c.tenants.toLocaleString('en-US'),
      c.prefetch,
      fmt(c.coldMs),
      fmt(c.coldP90Ms),
      fmt(c.firstRequestMs),
      `${c.jwksFetches} (${c.jwksFetchesMax})`,
      `${c.secretsReads} (${c.secretsReadsMax})`,
      fmt(c.peakRssMb),
      fmt(c.bundleKb),
      ...(many ? [fmt(c.cpuMs), ratio(c.coldMs, fewest(c)?.coldMs, 2)] : []),
    ]);
  const trees = r.trees.map((t) => `${many ? `${t.name}: ` : ''}${t.root} (${t.commit})`).join('; ');
  return `Product tree ${trees}; ${r.runs} cold starts per row, interleaved; JWKS and Secrets Manager answer after ${r.rttMs} ms; a random tenant's new user each time. Medians.\n\n${mdTable(header, rows)}\n`;
}
