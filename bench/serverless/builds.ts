// The builds the serverless comparison runs: the peer as CDK's NodejsFunction bundles it by
// default and tuned, and the stack's floor with the product's own bundling settings.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { lambdaBuildOptions as thisTreesBuildOptions } from '../../infra/lambda-bundling.ts';

const PEER_ENTRY = fileURLToPath(new URL('./peer-handler.ts', import.meta.url));
const FLOOR_ENTRY = fileURLToPath(new URL('./floor-handler.ts', import.meta.url));

export interface Built {
  handlerFile: string;
  bytes: number;
}

/**
 * CDK's NodejsFunction defaults (aws-cdk-lib/aws-lambda-nodejs, bundling.ts and types.ts):
 * esbuild --bundle --platform=node --target=<the runtime's node, node24>, format CommonJS
 * (OutputFormat.CJS), minify false, no source map, mainFields esbuild's own, and externalModules
 * `@aws-sdk/*` plus `@smithy/*` (the recommended feature flag
 * @aws-cdk/aws-lambda-nodejs:sdkV3ExcludeSmithyPackages, on in this project's cdk.json), left to
 * the runtime's own copy. The output, index.js, sits under the project so that the externals
 * resolve from its node_modules at run time, as they would from the runtime's; the package.json
 * beside it only says "commonjs" (the project's own is "module"; an asset folder has none).
 */
export async function buildPeerCdkDefault(outdir: string): Promise<Built> {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const handlerFile = join(outdir, 'index.js');
  await build({
    entryPoints: [PEER_ENTRY],
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    minify: false,
    sourcemap: false,
    external: ['@aws-sdk/*', '@smithy/*'],
    outfile: handlerFile,
    logLevel: 'warning',
  });
  writeFileSync(join(outdir, 'package.json'), '{"type":"commonjs"}\n');
  return { handlerFile, bytes: statSync(handlerFile).size };
}

/** The same peer tuned as a team would after reading about cold starts: one ES module file, minified, everything bundled (the SDK's module builds). */
export async function buildPeerTuned(outdir: string): Promise<Built> {
  rmSync(outdir, { recursive: true, force: true });
  const handlerFile = join(outdir, 'index.mjs');
  await build({
    entryPoints: [PEER_ENTRY],
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    minify: true,
    sourcemap: false,
    mainFields: ['module', 'main'],
    // CommonJS dependencies (axios, the plaid SDK) require() Node built-ins; ESM output needs one.
    banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
    outfile: handlerFile,
    logLevel: 'warning',
  });
  return { handlerFile, bytes: statSync(handlerFile).size };
}

/** The product tree's own esbuild settings (its infra/lambda-bundling.ts), or this checkout's. */
async function productBuildOptions(productRoot: string): Promise<BuildOptions> {
  try {
    const mod = (await import(pathToFileURL(join(productRoot, 'infra', 'lambda-bundling.ts')).href)) as {
      lambdaBuildOptions?: () => BuildOptions;
    };
    if (typeof mod.lambdaBuildOptions === 'function') return mod.lambdaBuildOptions();
  } catch {
    // fall through: this checkout's settings
  }
  return thisTreesBuildOptions();
}

/** The floor (floor-handler.ts) bundled with the product's esbuild settings, into one index.mjs. */
export async function buildFloor(productRoot: string, outdir: string): Promise<Built> {
  rmSync(outdir, { recursive: true, force: true });
  const handlerFile = join(outdir, 'index.mjs');
  // Its imports resolve from the product tree (stdin's resolveDir), as the product's own do: with
  // another worktree's settings, resolving the SDK from this checkout would bundle two copies of it.
  await build({
    ...(await productBuildOptions(productRoot)),
    stdin: {
      contents: readFileSync(FLOOR_ENTRY, 'utf8'),
      resolveDir: productRoot,
      sourcefile: 'floor-handler.ts',
      loader: 'ts',
    },
    outfile: handlerFile,
    sourcemap: false,
    metafile: false,
    logLevel: 'warning',
  });
  return { handlerFile, bytes: statSync(handlerFile).size };
}
