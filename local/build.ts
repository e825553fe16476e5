// Bundles the Lambda handler exactly as the deploy does (same settings object), into a folder
// that also holds the tenants file, like the Lambda asset. Used by the local stack, the tests
// and the benchmark.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { LAMBDA_BUNDLING, LAMBDA_ENTRY, PROJECT_ROOT } from '../infra/lambda-bundling.ts';

export interface BuiltBundle {
  readonly dir: string;
  readonly handlerFile: string;
  readonly metafile: Metafile;
}

/** The deploy's esbuild settings (infra/lambda-bundling.ts) as esbuild API options, for any entry point. */
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

export async function buildLambdaBundle(opts: { outdir: string; tenantsFile?: string }): Promise<BuiltBundle> {
  mkdirSync(opts.outdir, { recursive: true });
  const handlerFile = join(opts.outdir, LAMBDA_BUNDLING.outfileName);
  const result = await build({
    ...lambdaBuildOptions(),
    entryPoints: { [LAMBDA_BUNDLING.outfileName.replace(/\.mjs$/, '')]: LAMBDA_ENTRY },
    outdir: opts.outdir,
    outExtension: { '.js': '.mjs' },
    splitting: LAMBDA_BUNDLING.splitting,
    chunkNames: LAMBDA_BUNDLING.chunkNames,
    metafile: true,
  });
  writeFileSync(join(opts.outdir, 'metafile.json'), JSON.stringify(result.metafile));
  if (opts.tenantsFile) copyFileSync(opts.tenantsFile, join(opts.outdir, LAMBDA_BUNDLING.tenantsFileName));
  return { dir: opts.outdir, handlerFile, metafile: result.metafile };
}

if (import.meta.main) {
  const outdir = process.argv[2] ?? join(PROJECT_ROOT, 'dist', 'lambda');
  const built = await buildLambdaBundle({ outdir, tenantsFile: process.argv[3] });
  const bytes = Object.values(built.metafile.outputs).find((o) => o.entryPoint)?.bytes;
  console.log(`bundled ${built.handlerFile} (${bytes} bytes)`);
}
