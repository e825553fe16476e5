// Every bundle a benchmark runs, built one way each. The product is always built by its source
// tree's own entry point, as the deploy builds it: this checkout, another worktree
// (BENCH_PRODUCT_ROOT) or a commit's sources (git archive), so that a change can be measured from
// its own tree. The contenders (serverless peer, stack floor, AWS SDK variants) are built here.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { lambdaBuildOptions, PROJECT_ROOT } from '../../infra/lambda-bundling.ts';
import type { Env } from './harness.ts';

export { PROJECT_ROOT };
const contender = (file: string) => fileURLToPath(new URL(`../contenders/${file}`, import.meta.url));

export function productRoot(env: Env): string {
  const root = resolve(env.BENCH_PRODUCT_ROOT ?? PROJECT_ROOT);
  if (!existsSync(join(root, 'lambda', 'handler.ts')))
    throw new Error(`${root} is not a checkout of this project (no lambda/handler.ts)`);
  return root;
}

export interface Built {
  handlerFile: string;
  bytes: number;
  /** esbuild's metafile of the product's index.mjs, where its build writes one. */
  metafile?: Metafile;
}

/**
 * The product from `root`, by `node local/build.ts <outdir> <tenants file>` in that tree (trees
 * without it: infra/lambda-bundling.ts). The tenants file goes to the bundler as the deploy hands
 * it, and the function reads what that build put beside index.mjs: its environment names no
 * TENANTS_FILE.
 */
export function buildProduct(root: string, outdir: string, tenantsFile: string): Built {
  const entry = ['local/build.ts', 'infra/lambda-bundling.ts'].find((file) => existsSync(join(root, file)));
  if (!entry) throw new Error(`${root}: neither local/build.ts nor infra/lambda-bundling.ts`);
  // A tree without its own node_modules (a bare worktree, a commit's sources) builds with this checkout's.
  if (!existsSync(join(root, 'node_modules')))
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(root, 'node_modules'));
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  execFileSync(process.execPath, [entry, outdir, tenantsFile], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const handlerFile = join(outdir, 'index.mjs');
  if (!existsSync(handlerFile)) throw new Error(`${root}/${entry} wrote no ${handlerFile}`);
  const metafile = join(outdir, 'metafile.json');
  return {
    handlerFile,
    bytes: statSync(handlerFile).size,
    ...(existsSync(metafile) && { metafile: JSON.parse(readFileSync(metafile, 'utf8')) as Metafile }),
  };
}

/** The sources of `commit` (this repository's), unpacked into `dir`, to be built as a tree. */
export function commitTree(commit: string, dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('bash', ['-c', `git -C "${PROJECT_ROOT}" archive "$0" | tar -x -C "${dir}"`, commit]);
  return dir;
}

async function esbuild(options: BuildOptions, outfile: string): Promise<Built> {
  rmSync(outfile, { force: true });
  await build({ logLevel: 'warning', ...options, outfile });
  return { handlerFile: outfile, bytes: statSync(outfile).size };
}

/**
 * The serverless peer as CDK's NodejsFunction bundles it by default (aws-cdk-lib/aws-lambda-nodejs,
 * bundling.ts and types.ts): target node24, CommonJS, not minified, no source map, esbuild's own
 * mainFields, and `@aws-sdk/*` plus `@smithy/*` external (the flag
 * @aws-cdk/aws-lambda-nodejs:sdkV3ExcludeSmithyPackages, on in this project's cdk.json), loaded at
 * run time from node_modules as from the runtime's copy. The package.json beside it says
 * "commonjs" (an asset folder has none; this project's says "module").
 */
export async function buildPeerCdkDefault(outdir: string): Promise<Built> {
  mkdirSync(outdir, { recursive: true });
  writeFileSync(join(outdir, 'package.json'), '{"type":"commonjs"}\n');
  const options: BuildOptions = {
    entryPoints: [contender('peer-handler.ts')],
    bundle: true,
    platform: 'node',
    target: 'node24',
  };
  return esbuild({ ...options, format: 'cjs', external: ['@aws-sdk/*', '@smithy/*'] }, join(outdir, 'index.js'));
}

/** The same peer tuned as a team would after reading about cold starts: one minified ES module, everything bundled. */
export function buildPeerTuned(outdir: string): Promise<Built> {
  return esbuild(
    {
      entryPoints: [contender('peer-handler.ts')],
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'esm',
      minify: true,
      mainFields: ['module', 'main'],
      // CommonJS dependencies (axios, the plaid SDK) require() Node built-ins; ESM output needs one.
      banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
    },
    join(outdir, 'index.mjs'),
  );
}

/**
 * The stack floor (contenders/floor-handler.ts) with the product tree's own esbuild settings, its
 * imports resolved from that tree as the product's are (with another worktree's settings,
 * resolving the SDK from this checkout would bundle two copies of it).
 */
export async function buildFloor(root: string, outdir: string): Promise<Built> {
  let options = lambdaBuildOptions();
  try {
    const tree = (await import(pathToFileURL(join(root, 'infra', 'lambda-bundling.ts')).href)) as {
      lambdaBuildOptions?: () => BuildOptions;
    };
    options = tree.lambdaBuildOptions?.() ?? options;
  } catch {
    // a tree without that module: this checkout's settings
  }
  const stdin = {
    contents: readFileSync(contender('floor-handler.ts'), 'utf8'),
    resolveDir: root,
    sourcefile: 'floor-handler.ts',
    loader: 'ts' as const,
  };
  return esbuild({ ...options, stdin, sourcemap: false, metafile: false }, join(outdir, 'index.mjs'));
}

/** A GetSecretValue module (contenders/sdk-*.ts, exporting read(secretId)) with the deploy's settings, varied. */
export function buildSecretReader(
  entry: string,
  outdir: string,
  vary: Pick<BuildOptions, 'mainFields' | 'alias'> = {},
): Promise<Built> {
  return esbuild(
    { ...lambdaBuildOptions(), entryPoints: [contender(entry)], sourcemap: false, ...vary },
    join(outdir, 'index.mjs'),
  );
}

/** The local API Gateway emulator in front of a bundle (contenders/emulator-server.ts), as plain JavaScript. */
export function buildEmulator(outdir: string): Promise<Built> {
  return esbuild(
    { entryPoints: [contender('emulator-server.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node24' },
    join(outdir, 'emulator-server.mjs'),
  );
}
