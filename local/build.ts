// Bundles the Lambda handler exactly as the deploy does (same settings object), into a folder
// that, given a tenants file, also holds it validated and compiled (tenants.compiled.json), like
// the Lambda asset. Used by the local stack, the tests and the benchmark. Without one, the
// function reads the raw file TENANTS_FILE names, and validates it at each cold start.
import { join } from 'node:path';
import { buildFunctionBundle, PROJECT_ROOT, type BuiltBundle } from '../infra/lambda-bundling.ts';

export { lambdaBuildOptions, type BuiltBundle } from '../infra/lambda-bundling.ts';

export function buildLambdaBundle(opts: { outdir: string; tenantsFile?: string }): Promise<BuiltBundle> {
  return buildFunctionBundle(opts.outdir, opts.tenantsFile);
}

if (import.meta.main) {
  const outdir = process.argv[2] ?? join(PROJECT_ROOT, 'dist', 'lambda');
  const built = await buildLambdaBundle({ outdir, tenantsFile: process.argv[3] });
  const bytes = Object.values(built.metafile.outputs).find((o) => o.entryPoint)?.bytes;
  console.log(`bundled ${built.handlerFile} (${bytes} bytes)`);
}
