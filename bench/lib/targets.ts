// The targets of issue 13, checked against one run's figures: flat in tenants, the cold path
// against the serverless peer and the stack's floor, warm function CPU against the floor and the
// peer, the bundle budget and no upstream call on a warm request. Ratios within one run only:
// never an absolute time. A target whose figures were not measured in this run is "not measured"
// (met: null), never met by default. Pure, for the unit test.

export interface TargetCheck {
  target: string;
  value: number | null;
  limit: number;
  unit: 'ratio' | 'MB' | 'calls' | 'bytes';
  met: boolean | null;
  /** The figures the value comes from, all from this run. */
  detail: string;
}

export interface TargetInputs {
  sweep?: {
    cells: Array<{
      tenants: number;
      prefetch: 'on' | 'off';
      coldMs: number;
      peakRssMb: number;
      jwksFetchesMax: number;
      secretsReadsMax: number;
    }>;
  };
  serverlessCold?: { perContender: Record<'product' | 'peerDefault' | 'peerTuned' | 'floor', { coldMs: number }> };
  serverlessWarm?: {
    perContender: Partial<
      Record<
        'product' | 'peerDefault' | 'peerTuned' | 'floor',
        { cpuUsPerInvocation: number; secretsReads: number; jwksFetches: number; invocations: number }
      >
    >;
  };
  bundleBytes?: number;
  /** Upstream calls counted during warm product runs elsewhere in the run (the emulator stage). */
  otherWarmProductCalls?: { secrets: number; jwks: number; requests: number };
}

export const LIMITS = {
  tenantsColdRatio: 1.15,
  jwksPerColdStart: 2,
  secretsPerColdStart: 3,
  rssGrowthMb: 15,
  coldOverPeerDefault: 0.45,
  coldOverFloor: 1.15,
  warmCpuOverFloor: 1.5,
  warmCpuOverPeerDefault: 0.45,
  bundleBytes: 400 * 1000,
} as const;

const fmt = (n: number, d = 1) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

export function issueTargets(r: TargetInputs): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const check = (
    target: string,
    value: number | undefined,
    limit: number,
    unit: TargetCheck['unit'],
    detail: string,
  ) => {
    const measured = value !== undefined && Number.isFinite(value);
    checks.push({
      target,
      value: measured ? Math.round(value * 10_000) / 10_000 : null,
      limit,
      unit,
      met: measured ? value <= limit : null,
      detail: measured ? detail : 'not measured in this run',
    });
  };

  // 1. Flat in tenants (prefetch on, the default; the call counts whatever the setting).
  const on = (r.sweep?.cells ?? []).filter((c) => c.prefetch === 'on').sort((a, b) => a.tenants - b.tenants);
  const fewest = on[0];
  const most = on.at(-1);
  const spread = fewest && most && most.tenants > fewest.tenants;
  check(
    `cold start at ${most ? most.tenants.toLocaleString('en-US') : '1,000'} tenants / at ${fewest?.tenants ?? 1}, prefetch on`,
    spread ? most.coldMs / fewest.coldMs : undefined,
    LIMITS.tenantsColdRatio,
    'ratio',
    spread ? `${fmt(most.coldMs)} ms against ${fmt(fewest.coldMs)} ms` : '',
  );
  const all = r.sweep?.cells ?? [];
  const worst = (key: 'jwksFetchesMax' | 'secretsReadsMax') =>
    all.reduce<(typeof all)[number] | undefined>((w, c) => (!w || c[key] > w[key] ? c : w), undefined);
  const jw = worst('jwksFetchesMax');
  check(
    'JWKS fetches per cold start, most in any run of the sweep',
    jw?.jwksFetchesMax,
    LIMITS.jwksPerColdStart,
    'calls',
    jw ? `${jw.jwksFetchesMax} at ${jw.tenants.toLocaleString('en-US')} tenants, prefetch ${jw.prefetch}` : '',
  );
  const sm = worst('secretsReadsMax');
  check(
    'Secrets Manager reads per cold start, most in any run of the sweep',
    sm?.secretsReadsMax,
    LIMITS.secretsPerColdStart,
    'calls',
    sm ? `${sm.secretsReadsMax} at ${sm.tenants.toLocaleString('en-US')} tenants, prefetch ${sm.prefetch}` : '',
  );
  check(
    `peak RSS growth from ${fewest?.tenants ?? 1} to ${most ? most.tenants.toLocaleString('en-US') : '1,000'} tenants, prefetch on`,
    spread ? most.peakRssMb - fewest.peakRssMb : undefined,
    LIMITS.rssGrowthMb,
    'MB',
    spread ? `${fmt(most.peakRssMb)} MB against ${fmt(fewest.peakRssMb)} MB` : '',
  );

  // 2. Cold path against the serverless peer (CDK default build) and the stack's floor.
  const cold = r.serverlessCold?.perContender;
  check(
    'cold path, product / serverless peer (CDK default build)',
    cold ? cold.product.coldMs / cold.peerDefault.coldMs : undefined,
    LIMITS.coldOverPeerDefault,
    'ratio',
    cold
      ? `${fmt(cold.product.coldMs)} ms against ${fmt(cold.peerDefault.coldMs)} ms (tuned build ${fmt(cold.peerTuned.coldMs)} ms: ${fmt(cold.product.coldMs / cold.peerTuned.coldMs, 3)})`
      : '',
  );
  check(
    'cold path, product / stack floor',
    cold ? cold.product.coldMs / cold.floor.coldMs : undefined,
    LIMITS.coldOverFloor,
    'ratio',
    cold ? `${fmt(cold.product.coldMs)} ms against ${fmt(cold.floor.coldMs)} ms` : '',
  );

  // 3. Warm function CPU per invocation.
  const warm = r.serverlessWarm?.perContender;
  const p = warm?.product;
  check(
    'warm CPU per invocation, product / stack floor',
    p && warm.floor ? p.cpuUsPerInvocation / warm.floor.cpuUsPerInvocation : undefined,
    LIMITS.warmCpuOverFloor,
    'ratio',
    p && warm.floor ? `${fmt(p.cpuUsPerInvocation, 0)} µs against ${fmt(warm.floor.cpuUsPerInvocation, 0)} µs` : '',
  );
  check(
    'warm CPU per invocation, product / serverless peer (CDK default build)',
    p && warm.peerDefault ? p.cpuUsPerInvocation / warm.peerDefault.cpuUsPerInvocation : undefined,
    LIMITS.warmCpuOverPeerDefault,
    'ratio',
    p && warm.peerDefault
      ? `${fmt(p.cpuUsPerInvocation, 0)} µs against ${fmt(warm.peerDefault.cpuUsPerInvocation, 0)} µs`
      : '',
  );

  // 4. Kept: bundle budget, no upstream call on a warm request.
  check(
    'bundle (index.mjs), minified',
    r.bundleBytes,
    LIMITS.bundleBytes,
    'bytes',
    r.bundleBytes === undefined ? '' : `${fmt(r.bundleBytes / 1000)} kB`,
  );
  const o = r.otherWarmProductCalls;
  if (p || o) {
    const secrets = (p?.secretsReads ?? 0) + (o?.secrets ?? 0);
    const jwks = (p?.jwksFetches ?? 0) + (o?.jwks ?? 0);
    const requests = (p?.invocations ?? 0) + (o?.requests ?? 0);
    check(
      'Secrets Manager reads on warm product requests',
      secrets,
      0,
      'calls',
      `${secrets} in ${requests.toLocaleString('en-US')} warm requests`,
    );
    check(
      'JWKS fetches on warm product requests',
      jwks,
      0,
      'calls',
      `${jwks} in ${requests.toLocaleString('en-US')} warm requests`,
    );
  } else {
    check('Secrets Manager reads on warm product requests', undefined, 0, 'calls', '');
    check('JWKS fetches on warm product requests', undefined, 0, 'calls', '');
  }
  return checks;
}

/** One Markdown table: target, limit, this run's figure, met or not, and where the figure comes from. */
export function targetsMarkdown(checks: readonly TargetCheck[]): string {
  const value = (c: TargetCheck) =>
    c.value === null
      ? '—'
      : c.unit === 'ratio'
        ? c.value.toFixed(3)
        : c.unit === 'MB'
          ? `${c.value.toFixed(1)} MB`
          : c.unit === 'bytes'
            ? `${(c.value / 1000).toFixed(1)} kB`
            : String(c.value);
  const limit = (c: TargetCheck) =>
    c.unit === 'ratio'
      ? `≤ ${c.limit}`
      : c.unit === 'MB'
        ? `≤ ${c.limit} MB`
        : c.unit === 'bytes'
          ? `≤ ${c.limit / 1000} kB`
          : `≤ ${c.limit}`;
  return [
    '| target | limit | this run | met | figures |',
    '| --- | ---: | ---: | --- | --- |',
    ...checks.map(
      (c) =>
        `| ${c.target} | ${limit(c)} | ${value(c)} | ${c.met === null ? 'not measured' : c.met ? 'met' : '**not met**'} | ${c.detail} |`,
    ),
  ].join('\n');
}
