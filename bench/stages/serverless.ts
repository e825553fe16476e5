// The product against the serverless peer (contenders/peer-handler.ts, as CDK builds it by default
// and tuned) and the stack floor (contenders/floor-handler.ts), all against one generated tenant.
//   cold: fresh process → first token, the JWKS and every Secrets Manager read answering after the
//         round trip; the contenders interleaved, the order rotated every run, one discarded round.
//   warm: each handler in its own warm environment, invoked one request at a time, 256 users'
//         tokens cycled; CPU per invocation from process.cpuUsage around each batch; batches
//         interleaved; Secrets Manager reads and JWKS fetches counted during every warm batch.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFloor, buildPeerCdkDefault, buildPeerTuned, buildProduct } from '../lib/builds.ts';
import { fmt, keyed, log, median, percentile, ratio, round } from '../lib/harness.ts';
import { coldStart, startWorker, type Worker } from '../lib/processes.ts';
import { lambdaEnv, linkTokenReq, type StandIns } from '../lib/standins.ts';
import {
  generateTenantsFile,
  tenantAudience,
  tenantIssuer,
  tenantOrigin,
  tenantPlaidSecretId,
} from '../lib/tenants-gen.ts';

export const CONTENDERS = ['product', 'peerDefault', 'peerTuned', 'floor'] as const;
export type Contender = (typeof CONTENDERS)[number];
const NAMES: Record<Contender, string> = {
  product: 'product',
  peerDefault: 'serverless peer, CDK default build',
  peerTuned: 'serverless peer, tuned build',
  floor: 'stack floor',
};
const TOKEN_POOL = 256;

export interface Contenders {
  handlers: Record<Contender, string>;
  bytes: Record<Contender, number>;
  env: Record<Contender, Record<string, string>>;
}

export interface ServerlessColdFigures {
  coldMs: number;
  coldP90Ms: number;
  importMs: number;
  firstRequestMs: number;
  peakRssMb: number;
  secretsReads: number;
  jwksFetches: number;
}

export interface ServerlessWarmFigures {
  /** Median over batches of the batch's CPU / invocations. */
  cpuUsPerInvocation: number;
  wallP50Ms: number;
  wallP99Ms: number;
  invocations: number;
  secretsReads: number;
  jwksFetches: number;
}

export interface ServerlessResult {
  bytes: Record<Contender, number>;
  cold?: { runs: number; rttMs: number; perContender: Record<Contender, ServerlessColdFigures> };
  warm?: {
    rounds: number;
    batch: number;
    perContender: Record<Contender, ServerlessWarmFigures>;
    /** Medians over rounds of the per-round ratios (each round's batches ran back to back). */
    roundRatios: { productOverPeerDefault: number; productOverPeerTuned: number; productOverFloor: number };
  };
}

/** Builds the four handlers, and the environment each runs with, against generated tenant 0. */
export async function prepareContenders(standIns: StandIns, workDir: string, root: string): Promise<Contenders> {
  mkdirSync(workDir, { recursive: true });
  await standIns.seed(1);
  const tenantsFile = join(workDir, 'tenants-1.json');
  writeFileSync(tenantsFile, JSON.stringify(generateTenantsFile(1, standIns.issuersUrl)));
  log(`building the product from ${root}, the serverless peer (CDK default build and tuned) and the stack floor`);
  const product = buildProduct(root, join(workDir, 'product'), tenantsFile);
  const [peerDefault, peerTuned, floor] = await Promise.all([
    buildPeerCdkDefault(join(workDir, 'peer-cdk-default')),
    buildPeerTuned(join(workDir, 'peer-tuned')),
    buildFloor(root, join(workDir, 'floor')),
  ]);
  const base = lambdaEnv(standIns);
  const issuer = tenantIssuer(standIns.issuersUrl, 0);
  const peer = {
    ...base,
    ISSUER: issuer,
    AUDIENCE: tenantAudience(0),
    JWKS_URI: `${issuer}/.well-known/jwks.json`,
    PLAID_SECRET_ID: tenantPlaidSecretId(0),
  };
  const built = { product, peerDefault, peerTuned, floor };
  return {
    handlers: byContender((k) => built[k].handlerFile),
    bytes: byContender((k) => built[k].bytes),
    env: {
      product: base,
      peerDefault: peer,
      peerTuned: peer,
      floor: { ...base, FLOOR_SECRET_ID: tenantPlaidSecretId(0) },
    },
  };
}

const tokens = (standIns: StandIns, subs: string[]) => standIns.mint(subs, { claims: { aud: tenantAudience(0) } });
const byContender = <T>(f: (k: Contender) => T) => keyed(CONTENDERS, f);

export async function runServerlessCold(
  standIns: StandIns,
  c: Contenders,
  runs: number,
  rttMs: number,
): Promise<ServerlessResult['cold']> {
  const samples = byContender(
    () => [] as Array<{ total: number; import: number; first: number; rss: number; secrets: number; jwks: number }>,
  );
  log(
    `cold path: ${runs} fresh processes each (+1 discarded), interleaved, ${rttMs} ms JWKS and Secrets Manager round trips`,
  );
  await standIns.setUpstreamLatency(rttMs);
  try {
    for (let run = -1; run < runs; run++) {
      const [token] = await tokens(standIns, [`cold-user-${run + 1}-${Math.random().toString(36).slice(2)}`]);
      const shift = (run + CONTENDERS.length) % CONTENDERS.length;
      for (const k of [...CONTENDERS.slice(shift), ...CONTENDERS.slice(0, shift)]) {
        await standIns.reset();
        const cold = await coldStart(c.handlers[k], c.env[k], linkTokenReq(token!, tenantOrigin(0)), {
          label: NAMES[k],
        });
        const calls = await standIns.counters();
        const sample = { total: cold.totalMs, import: cold.importMs, first: cold.firstInvokeMs, rss: cold.peakRssKb };
        if (run >= 0) samples[k].push({ ...sample, secrets: calls.secrets, jwks: calls.jwks });
      }
    }
  } finally {
    await standIns.setUpstreamLatency(0);
    await standIns.reset();
  }
  const perContender = byContender((k) => {
    const s = samples[k];
    const m = (f: (x: (typeof s)[number]) => number) => median(s.map(f));
    return {
      coldMs: round(
        m((x) => x.total),
        2,
      ),
      coldP90Ms: round(
        percentile(
          s.map((x) => x.total),
          0.9,
        ),
        2,
      ),
      importMs: round(
        m((x) => x.import),
        2,
      ),
      firstRequestMs: round(
        m((x) => x.first),
        2,
      ),
      peakRssMb: round(m((x) => x.rss) / 1024, 1),
      secretsReads: m((x) => x.secrets),
      jwksFetches: m((x) => x.jwks),
    };
  });
  return { runs, rttMs, perContender };
}

export async function runServerlessWarm(
  standIns: StandIns,
  c: Contenders,
  rounds: number,
  batch: number,
): Promise<ServerlessResult['warm']> {
  const pool = await tokens(
    standIns,
    Array.from({ length: TOKEN_POOL }, (_, i) => `warm-user-${i}`),
  );
  let cursor = 0;
  const requests = () =>
    Array.from({ length: batch }, () => linkTokenReq(pool[cursor++ % pool.length]!, tenantOrigin(0)));
  const workers = new Map<Contender, Worker>();
  const out = byContender(() => ({ cpu: [] as number[], wall: [] as number[], secrets: 0, jwks: 0 }));
  try {
    for (const k of CONTENDERS) workers.set(k, await startWorker(NAMES[k], c.handlers[k], c.env[k]));
    // Warm-up: the cold start, then one batch, for each (JIT, caches, keep-alive sockets).
    for (const k of CONTENDERS) await workers.get(k)!.run(requests());
    await standIns.reset();
    log(`warm, function only: ${rounds} rounds of ${batch} invocations per handler, one at a time, interleaved`);
    for (let round = 0; round < rounds; round++) {
      for (const k of round % 2 ? [...CONTENDERS].reverse() : CONTENDERS) {
        const result = await workers.get(k)!.run(requests());
        const calls = await standIns.counters();
        await standIns.reset();
        out[k].cpu.push((result.cpuMs * 1000) / batch);
        out[k].wall.push(...result.wallMs);
        out[k].secrets += calls.secrets;
        out[k].jwks += calls.jwks;
      }
    }
  } finally {
    for (const w of workers.values()) await w.close();
  }
  const perRound = (den: Contender) => round(median(out.product.cpu.map((x, i) => x / out[den].cpu[i]!)), 4);
  return {
    rounds,
    batch,
    perContender: byContender((k) => ({
      cpuUsPerInvocation: round(median(out[k].cpu), 1),
      wallP50Ms: round(percentile(out[k].wall, 0.5), 4),
      wallP99Ms: round(percentile(out[k].wall, 0.99), 4),
      invocations: out[k].wall.length,
      secretsReads: out[k].secrets,
      jwksFetches: out[k].jwks,
    })),
    roundRatios: {
      productOverPeerDefault: perRound('peerDefault'),
      productOverPeerTuned: perRound('peerTuned'),
      productOverFloor: perRound('floor'),
    },
  };
}

export function serverlessMarkdown(r: ServerlessResult): string {
  const row = (label: string, get: (k: Contender) => number | undefined, digits: number) => {
    const v = byContender(get);
    return `| ${label} | ${CONTENDERS.map((k) => fmt(v[k], digits)).join(' | ')} | ${ratio(v.product, v.peerDefault)} | ${ratio(v.product, v.peerTuned)} | ${ratio(v.product, v.floor)} |`;
  };
  const text = (label: string, get: (k: Contender) => string) =>
    `| ${label} | ${CONTENDERS.map(get).join(' | ')} | | | |`;
  const lines = [
    `| | ${CONTENDERS.map((k) => NAMES[k]).join(' | ')} | product/peer (CDK default) | product/peer (tuned) | product/floor |`,
    `| --- | ${CONTENDERS.map(() => '---:').join(' | ')} | ---: | ---: | ---: |`,
    row(
      'Handler file (kB; the CDK default build also loads the AWS SDK from node_modules)',
      (k) => r.bytes[k] / 1000,
      1,
    ),
  ];
  if (r.cold) {
    const p = r.cold.perContender;
    lines.push(
      row(
        `Cold: spawn → first token, median of ${r.cold.runs}, ${r.cold.rttMs} ms round trips (ms)`,
        (k) => p[k].coldMs,
        1,
      ),
      row('Cold: p90 (ms)', (k) => p[k].coldP90Ms, 1),
      row('Cold: import / init (ms)', (k) => p[k].importMs, 1),
      row('Cold: first invocation (ms)', (k) => p[k].firstRequestMs, 1),
      row('Cold: peak RSS (MB)', (k) => p[k].peakRssMb, 1),
      text(
        'Cold: Secrets Manager reads / JWKS fetches per cold start, median',
        (k) => `${p[k].secretsReads} / ${p[k].jwksFetches}`,
      ),
    );
  }
  if (r.warm) {
    const p = r.warm.perContender;
    const q = r.warm.roundRatios;
    lines.push(
      row(
        `Warm: CPU per invocation, median of ${r.warm.rounds} batches of ${r.warm.batch} (µs)`,
        (k) => p[k].cpuUsPerInvocation,
        0,
      ),
      row('Warm: duration p50 (ms)', (k) => p[k].wallP50Ms, 3),
      row('Warm: duration p99 (ms)', (k) => p[k].wallP99Ms, 3),
      text(
        'Warm: Secrets Manager reads / JWKS fetches',
        (k) => `${p[k].secretsReads} / ${p[k].jwksFetches} in ${p[k].invocations}`,
      ),
      `| Warm: CPU ratio, median of the per-round ratios | | | | | ${fmt(q.productOverPeerDefault, 3)} | ${fmt(q.productOverPeerTuned, 3)} | ${fmt(q.productOverFloor, 3)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
