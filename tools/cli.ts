// What the support commands share: the same flags parsed the same way (--help prints the usage
// and exits 0; an unknown or malformed option is named, with the usage, and exits 1), and the
// tenants file read as the deploy reads it, by stage (infra/stages.ts) unless a file is given.
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Tenant, TenantsFile } from '../lambda/config/tenant-schema.ts';
import { readTenantsFile, tenantsById } from '../lambda/config/load-tenants.ts';
import { PROJECT_ROOT } from '../infra/lambda-bundling.ts';
import { STAGE_NAMES, STAGES, type StageName } from '../infra/stages.ts';

/** A mistake of the caller's: printed as is (no stack trace), exit status 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The stage whose tenants file a command reads when given neither --stage nor --tenants-file. */
export const DEFAULT_STAGE: StageName = 'prod';

export const TENANTS_OPTIONS = {
  stage: { type: 'string' },
  'tenants-file': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export const TENANTS_USAGE = `[--stage <${STAGE_NAMES.join('|')}> | --tenants-file <file>]`;
export const TENANTS_HELP = `The tenants file is the stage's, as \`cdk deploy -c stage=<stage>\` deploys it (${STAGE_NAMES.map((s) => `${s}: ${STAGES[s].tenantsFile}`).join(', ')}; default stage ${DEFAULT_STAGE}), or the file given with --tenants-file (a deploy with -c tenantsFile=<file>).`;

/** --help, which every command takes. */
export const HELP_OPTION = { help: { type: 'boolean', default: false } } as const;

/**
 * The parsed flags, or undefined when --help was asked for (the usage is printed then). Unknown
 * options, values missing after a flag and positional arguments are UsageErrors naming them.
 */
export function parseCli<const T extends ParseArgsConfig & { options: typeof HELP_OPTION }>(
  config: T,
  usage: string,
): ReturnType<typeof parseArgs<T>>['values'] | undefined {
  let values;
  try {
    // strict (the default): unknown options and positional arguments throw.
    ({ values } = parseArgs(config));
  } catch (error) {
    // node:util's messages name the option ("Unknown option '--tenant-id'", "Option '--subject
    // <value>' argument missing", "Unexpected argument 'x'. ...").
    throw new UsageError(`${(error as Error).message}.\n${usage}`);
  }
  if ((values as { help?: boolean }).help) {
    process.stdout.write(`${usage}\n`);
    return undefined;
  }
  return values;
}

/** The tenants file chosen by --stage or --tenants-file, and the tenant named by --tenant in it. */
export function tenantOf(values: { stage?: string; 'tenants-file'?: string; tenant?: string }): {
  file: TenantsFile;
  path: string;
  tenant: Tenant;
} {
  if (values.stage !== undefined && values['tenants-file'] !== undefined)
    throw new UsageError('Give --stage or --tenants-file, not both.');
  if (values.stage !== undefined && !(STAGE_NAMES as readonly string[]).includes(values.stage)) {
    throw new UsageError(`--stage must be one of ${STAGE_NAMES.join(', ')} (got '${values.stage}').`);
  }
  const path =
    values['tenants-file'] ??
    resolve(PROJECT_ROOT, STAGES[(values.stage as StageName | undefined) ?? DEFAULT_STAGE].tenantsFile);
  const file = readTenantsFile(path);
  const byId = tenantsById(file);
  const tenant = values.tenant === undefined ? undefined : byId.get(values.tenant);
  if (!tenant)
    throw new UsageError(`No tenant '${values.tenant}' in ${path} (tenants: ${[...byId.keys()].join(', ')})`);
  return { file, path, tenant };
}

/** Runs a command's main: a UsageError or a configuration mistake is one line on stderr, exit 1. */
export function runCli(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  });
}
