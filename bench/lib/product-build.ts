// The product bundle the sweep and the serverless comparison measure, built by a product tree's
// own entry point: this checkout by default, or another worktree (BENCH_PRODUCT_ROOT=/path), so a
// change can be measured from its own tree with this benchmark. The tenants file is handed to the
// bundler as the deploy hands it (`node local/build.ts <outdir> <tenants file>`; trees without
// local/build.ts: `node infra/lambda-bundling.ts <outdir> <tenants file>`), and the bundle reads
// whatever that build put beside index.mjs: the function's environment names no TENANTS_FILE.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../../infra/lambda-bundling.ts';

export function productRoot(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const root = resolve(env.BENCH_PRODUCT_ROOT ?? PROJECT_ROOT);
  if (!existsSync(join(root, 'lambda', 'handler.ts')))
    throw new Error(`BENCH_PRODUCT_ROOT=${root} is not a checkout of this project (no lambda/handler.ts)`);
  return root;
}

/** Builds the product from `root` into `outdir` with `tenantsFile` beside it; returns index.mjs. */
export function buildProductBundle(root: string, outdir: string, tenantsFile?: string): string {
  const entry = ['local/build.ts', 'infra/lambda-bundling.ts'].find((file) => existsSync(join(root, file)));
  if (!entry) throw new Error(`${root}: neither local/build.ts nor infra/lambda-bundling.ts`);
  // A tree without its own node_modules (a bare git worktree) builds with this checkout's.
  if (!existsSync(join(root, 'node_modules')))
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(root, 'node_modules'));
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  execFileSync(process.execPath, [entry, outdir, ...(tenantsFile ? [tenantsFile] : [])], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const handlerFile = join(outdir, 'index.mjs');
  if (!existsSync(handlerFile)) throw new Error(`${root}/${entry} wrote no ${handlerFile}`);
  return handlerFile;
}

/** The commit of a product tree, with "+dirty" when it has uncommitted changes. */
export function describeTree(root: string): string {
  try {
    const head = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty =
      execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], {
        encoding: 'utf8',
      }).trim() !== '';
    return `${head}${dirty ? '+dirty' : ''}`;
  } catch {
    return 'unknown';
  }
}
