// `npm run synth` and `npm run synth:prod`: `cdk synth` of one stage, then cfn-lint on exactly
// the templates that synth wrote, then one line saying which stage and which tenants file were
// checked. Every argument after `--` goes to `cdk synth` unchanged (`-c tenantsFile=…`,
// `-c stage=…`, any `-c key=value`, `-o <dir>`), so the file an operator names is the file
// synthesized, linted and reported; the script's own stage is only the default.
//
//   node infra/synth.ts --default-stage <stage> [cdk synth arguments…]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { readTenantsFile } from '../lambda/config/load-tenants.ts';
import { PROJECT_ROOT } from './lambda-bundling.ts';
import { ACKNOWLEDGEMENTS_FILE, lintTemplates, templatesOf } from './lint-template.ts';
import { resolveStage } from './stages.ts';

const CDK_CLI = join(PROJECT_ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');

export interface SynthArguments {
  /** What goes to `cdk synth`, the default stage added when the caller named none. */
  readonly cdkArgs: readonly string[];
  /** The context given on the command line, as the CLI passes it to the app. */
  readonly context: Readonly<Record<string, string>>;
  /** Where synth writes the cloud assembly (`-o`/`--output`, else cdk.out). */
  readonly outdir: string;
}

/**
 * Reads the context and output options the way the CDK CLI does (`-c k=v`, `--context k=v`,
 * `--context=k=v`; `-o dir`, `--output dir`, `--output=dir`), passing every argument on.
 */
export function synthArguments(defaultStage: string, args: readonly string[]): SynthArguments {
  const context: Record<string, string> = {};
  let outdir = 'cdk.out';
  const valueAt = (index: number, flag: string) => {
    const value = args[index];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    return value;
  };
  const addContext = (pair: string) => {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`-c ${pair}: context values are key=value`);
    context[pair.slice(0, at)] = pair.slice(at + 1);
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-c' || arg === '--context') addContext(valueAt(++i, arg));
    else if (arg.startsWith('--context=')) addContext(arg.slice('--context='.length));
    else if (arg === '-o' || arg === '--output') outdir = valueAt(++i, arg);
    else if (arg.startsWith('--output=')) outdir = arg.slice('--output='.length);
  }
  const stage = context.stage === undefined ? ['-c', `stage=${defaultStage}`] : [];
  return {
    cdkArgs: ['synth', '--no-notices', '--quiet', ...stage, ...args],
    context: { stage: defaultStage, ...context },
    // The CLI runs in the project root (npm runs scripts there), so a relative -o is from there.
    outdir: resolve(PROJECT_ROOT, outdir),
  };
}

/** The context the app sees: cdk.json's, then cdk.context.json's, then the command line's. */
function appContext(commandLine: Readonly<Record<string, string>>): Record<string, unknown> {
  const read = (file: string, key?: string): Record<string, unknown> => {
    const path = join(PROJECT_ROOT, file);
    if (!existsSync(path)) return {};
    const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    return (key ? json[key] : json) as Record<string, unknown>;
  };
  return { ...read('cdk.json', 'context'), ...read('cdk.context.json'), ...commandLine };
}

const shown = (path: string) => {
  const inside = relative(process.cwd(), path);
  return inside && !inside.startsWith('..') ? inside : path;
};

/** Runs synth and the lint; returns the exit code. */
export function synth(defaultStage: string, args: readonly string[]): number {
  const parsed = synthArguments(defaultStage, args);
  // A manifest left by an earlier synth (another stage, another file) must never be what gets
  // linted: without it, only what this synth writes can be.
  rmSync(join(parsed.outdir, 'manifest.json'), { force: true });
  const result = spawnSync(process.execPath, [CDK_CLI, ...parsed.cdkArgs], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  if (result.error) throw result.error;
  if (result.status !== 0) return result.status ?? 1;

  const templates = templatesOf(parsed.outdir);
  const code = lintTemplates(templates, { acknowledgementsFile: ACKNOWLEDGEMENTS_FILE });
  if (code !== 0) return code;
  const context = appContext(parsed.context);
  const stage = resolveStage((key) => context[key]);
  const tenants = Object.keys(readTenantsFile(stage.tenantsFilePath).tenants);
  process.stdout.write(
    `synth: stage ${stage.name}, tenants file ${shown(stage.tenantsFilePath)} (${tenants.length === 1 ? 'tenant' : `${tenants.length} tenants:`} ${tenants.join(', ')}): ` +
      `${templates.map(shown).join(', ')} checked (tenants file, cdk-nag, cfn-lint)\n`,
  );
  return 0;
}

if (import.meta.main) {
  const [flag, defaultStage, ...args] = process.argv.slice(2);
  if (flag !== '--default-stage' || !defaultStage) {
    process.stderr.write('Usage: node infra/synth.ts --default-stage <stage> [cdk synth arguments…]\n');
    process.exit(2);
  }
  try {
    process.exitCode = synth(defaultStage, args);
  } catch (error) {
    process.stderr.write(`synth: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
