// The one definition of how the function is bundled. The CDK construct (infra) and the local
// stack and benchmark (local/build.ts) both derive their esbuild settings from this object, so
// what runs on one machine is what ships.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { loadTenantsFile } from '../lambda/config/load-tenants.ts';
import { COMPILED_TENANTS_FILE_NAME, compileTenants } from '../lambda/config/tenant-directory.ts';

export const LAMBDA_ENTRY = fileURLToPath(new URL('../lambda/handler.ts', import.meta.url));
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const LAMBDA_BUNDLING = {
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: true,
  sourcemap: true,
  // Prefer the ES module builds (the AWS SDK's dist-es): they tree-shake to a smaller bundle.
  mainFields: ['module', 'main'],
  // Bundle everything, the AWS SDK too: the runtime's own SDK copy is unpinned and loads slower.
  externalModules: [] as string[],
  // node:http through require, not as an ES module (see lambda/runtime/node-http-cjs.ts): a
  // module-level import of it evaluates every lazy export of node:http at cold start.
  alias: {
    'node:http': './lambda/runtime/node-http-cjs.ts',
    http: './lambda/runtime/node-http-cjs.ts',
    // The SDK's credential chain reduced to the environment, the only source Lambda uses (see
    // lambda/runtime/aws-credentials-from-env.ts): the bundle carries no provider that cannot apply.
    '@aws-sdk/credential-provider-node': './lambda/runtime/aws-credentials-from-env.ts',
  } as Readonly<Record<string, string>>,
  // A few CommonJS dependencies call require() for Node built-ins; ESM output needs one.
  banner: "import{createRequire as __lts_cr}from'node:module';const require=__lts_cr(import.meta.url);",
  outfileName: 'index.mjs',
  // Code only the items routes, update mode and webhooks run (the DynamoDB, KMS and EventBridge
  // clients, jose), and the tenants schema, which only a raw TENANTS_FILE needs, is built apart, into lazy/ beside index.mjs, and imported on first use: a cold
  // start that mints a new link token reads, parses and evaluates index.mjs alone, one file.
  // (esbuild's own code splitting would move the SDK core both share into chunks, and the first
  // Secrets Manager read would then load modules from several files, a slower cold start.) The
  // lazy modules carry their own copy of the SDK core.
  lazyModules: {
    './vault/dynamodb-kms-vault.ts': 'vault',
    './webhooks/plaid-webhook-verifier.ts': 'webhook-verifier',
    './events/eventbridge-publisher.ts': 'event-publisher',
    './config/load-tenants.ts': 'tenants-validation',
  } as Readonly<Record<string, string>>,
  lazyDir: 'lazy',
  /**
   * The tenants file travels inside the asset, beside the bundle, in the form the build validated
   * (lambda/config/tenant-directory.ts): the function reads it without running the schema.
   */
  tenantsFileName: COMPILED_TENANTS_FILE_NAME,
} as const;

/** The settings above as esbuild API options, for any entry point (the benchmark builds others). */
export function lambdaBuildOptions(): BuildOptions {
  return {
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    platform: LAMBDA_BUNDLING.platform,
    format: LAMBDA_BUNDLING.format,
    target: LAMBDA_BUNDLING.target,
    minify: LAMBDA_BUNDLING.minify,
    sourcemap: LAMBDA_BUNDLING.sourcemap,
    mainFields: [...LAMBDA_BUNDLING.mainFields],
    external: [...LAMBDA_BUNDLING.externalModules],
    alias: { ...LAMBDA_BUNDLING.alias },
    banner: { js: LAMBDA_BUNDLING.banner },
    logLevel: 'warning',
  };
}

/** handler.ts's dynamic imports of the lazy modules point at their builds in lazy/. */
const lazyImports: Plugin = {
  name: 'lazy-modules',
  setup(build) {
    build.onResolve({ filter: /^\.\/(vault|webhooks|events|config)\//, namespace: 'file' }, (args) => {
      const name = args.kind === 'dynamic-import' ? LAMBDA_BUNDLING.lazyModules[args.path] : undefined;
      return name ? { path: `./${LAMBDA_BUNDLING.lazyDir}/${name}.mjs`, external: true } : undefined;
    });
  },
};

/**
 * The function's two builds, both into `outdir`: index.mjs (the handler, one file) and lazy/
 * (the modules only items, update mode and webhooks load, sharing chunks among themselves).
 */
export function functionBuildOptions(outdir: string): { index: BuildOptions; lazy: BuildOptions } {
  const lambdaDir = join(PROJECT_ROOT, 'lambda');
  return {
    index: {
      ...lambdaBuildOptions(),
      entryPoints: [LAMBDA_ENTRY],
      outfile: join(outdir, LAMBDA_BUNDLING.outfileName),
      plugins: [lazyImports],
      metafile: true,
      define: { __TENANTS_SCHEMA_FINGERPRINT__: JSON.stringify(tenantsSchemaFingerprint()) },
    },
    lazy: {
      ...lambdaBuildOptions(),
      entryPoints: Object.fromEntries(
        Object.entries(LAMBDA_BUNDLING.lazyModules).map(([source, name]) => [name, join(lambdaDir, source)]),
      ),
      outdir: join(outdir, LAMBDA_BUNDLING.lazyDir),
      outExtension: { '.js': '.mjs' },
      splitting: true,
      chunkNames: 'chunk-[hash]',
      metafile: true,
    },
  };
}

export interface BuiltBundle {
  readonly dir: string;
  readonly handlerFile: string;
  readonly metafile: Metafile;
}

/**
 * The tenants schema, the tenant rules and everything they use live in lambda/config/: a change
 * to any of those files, or to valibot, gives another fingerprint, and a compiled tenants form
 * written by another build is refused by this one.
 */
export function tenantsSchemaFingerprint(): string {
  const configDir = join(PROJECT_ROOT, 'lambda', 'config');
  const hash = createHash('sha256');
  for (const name of readdirSync(configDir)
    .filter((f) => f.endsWith('.ts'))
    .sort())
    hash
      .update(`${name}\0`)
      .update(readFileSync(join(configDir, name)))
      .update('\0');
  const valibot = JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules', 'valibot', 'package.json'), 'utf8')) as {
    version: string;
  };
  hash.update(`valibot@${valibot.version}`);
  return hash.digest('hex');
}

/**
 * What both the deploy's asset and the local stack hold: the bundle and, when given a tenants
 * file, beside it that file validated with the one schema (a rejected file fails the build, as
 * it fails synth) and written in its compiled form.
 */
export function finishBundle(outdir: string, metafile: Metafile, tenantsFile?: string): BuiltBundle {
  writeFileSync(join(outdir, 'metafile.json'), JSON.stringify(metafile));
  if (tenantsFile) {
    const { file, warnings } = loadTenantsFile(tenantsFile);
    writeFileSync(
      join(outdir, LAMBDA_BUNDLING.tenantsFileName),
      compileTenants(file, warnings, tenantsSchemaFingerprint()),
    );
  }
  return { dir: outdir, handlerFile: join(outdir, LAMBDA_BUNDLING.outfileName), metafile };
}

/** Builds the function into `outdir` (index.mjs, lazy/ and, when given, the tenants file). */
export async function buildFunctionBundle(outdir: string, tenantsFile?: string): Promise<BuiltBundle> {
  mkdirSync(outdir, { recursive: true });
  const options = functionBuildOptions(outdir);
  const [index] = await Promise.all([build(options.index), build(options.lazy)]);
  return finishBundle(outdir, index.metafile!, tenantsFile);
}

// `node infra/lambda-bundling.ts <outdir> [tenants file]`: what the CDK construct runs at synth
// (a construct is synchronous, and esbuild's plugins need its asynchronous API).
if (import.meta.main) {
  const [outdir, tenantsFile] = process.argv.slice(2);
  if (!outdir) throw new Error('usage: node infra/lambda-bundling.ts <outdir> [tenants file]');
  await buildFunctionBundle(outdir, tenantsFile);
}
