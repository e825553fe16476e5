// The one definition of how the function is bundled. The CDK construct (infra) and the local
// stack and benchmark (local/build.ts) both derive their esbuild settings from this object, so
// what runs on one machine is what ships.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions, Metafile } from 'esbuild';

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
  // module-level import of it costs ~25 ms of cold start, a require ~3 ms.
  alias: {
    'node:http': './lambda/runtime/node-http-cjs.ts',
    http: './lambda/runtime/node-http-cjs.ts',
    // The SDK's credential chain reduced to the environment, the only source Lambda uses (see
    // lambda/runtime/aws-credentials-from-env.ts): 135 kB less bundle, ~10 ms less cold start.
    '@aws-sdk/credential-provider-node': './lambda/runtime/aws-credentials-from-env.ts',
  } as Readonly<Record<string, string>>,
  // A few CommonJS dependencies call require() for Node built-ins; ESM output needs one.
  banner: "import{createRequire as __lts_cr}from'node:module';const require=__lts_cr(import.meta.url);",
  outfileName: 'index.mjs',
  // Code only the items routes, update mode and webhooks run (the DynamoDB, KMS and EventBridge
  // clients, jose) goes to chunks beside index.mjs, imported on first use: a cold start that
  // mints a new link token never reads, parses or evaluates them.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  /** The tenants file travels inside the asset, beside the bundle, under this name. */
  tenantsFileName: 'tenants.json',
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

/** The function's own build: index.mjs and its chunks in `outdir`. */
export function functionBuildOptions(outdir: string): BuildOptions {
  return {
    ...lambdaBuildOptions(),
    entryPoints: { [LAMBDA_BUNDLING.outfileName.replace(/\.mjs$/, '')]: LAMBDA_ENTRY },
    outdir,
    outExtension: { '.js': '.mjs' },
    splitting: LAMBDA_BUNDLING.splitting,
    chunkNames: LAMBDA_BUNDLING.chunkNames,
    metafile: true,
  };
}

export interface BuiltBundle {
  readonly dir: string;
  readonly handlerFile: string;
  readonly metafile: Metafile;
}

/** What both the deploy's asset and the local stack hold: the bundle, beside it the tenants file. */
export function finishBundle(outdir: string, metafile: Metafile, tenantsFile?: string): BuiltBundle {
  writeFileSync(join(outdir, 'metafile.json'), JSON.stringify(metafile));
  if (tenantsFile) copyFileSync(tenantsFile, join(outdir, LAMBDA_BUNDLING.tenantsFileName));
  return { dir: outdir, handlerFile: join(outdir, LAMBDA_BUNDLING.outfileName), metafile };
}

export function prepareOutdir(outdir: string): void {
  mkdirSync(outdir, { recursive: true });
}
