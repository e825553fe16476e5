// The Lambda function and everything that defines how it runs: runtime, architecture, the
// bundle (from the one definition in lambda-bundling.ts, shared with the local stack), memory
// and timeout, its log group, and a role that may write its own logs, read its tenants'
// secrets, use the items vault and publish verified webhooks on the stage's bus, nothing else.
// The defaults are set here, each with the reason it has this value.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import {
  ApplicationLogLevel,
  Architecture,
  Code,
  Function as LambdaFunction,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readSettings, type Settings } from '../lambda/config/settings.ts';
import type { ItemsVault } from './items-vault.ts';
import { fileURLToPath } from 'node:url';
import { FUNCTION_MEMORY_MB } from './function-sizing.ts';
import { LAMBDA_BUNDLING } from './lambda-bundling.ts';

const LAMBDA_BUNDLING_SCRIPT = fileURLToPath(new URL('./lambda-bundling.ts', import.meta.url));
import type { TenantSecrets } from './tenant-secrets.ts';
import type { WebhookBus } from './webhooks.ts';

// Memory: one number, with its reason, shared with the local stack.
export { FUNCTION_MEMORY_MB } from './function-sizing.ts';

/**
 * The timeout is derived from the function's own settings: a cache-missing JWKS fetch
 * (JWKS_TIMEOUT_MS) before the upstream budget (REQUEST_BUDGET_MS, secrets and Plaid), plus
 * headroom for CPU work and the 250 ms middy keeps to answer 504 itself. With the defaults
 * that is 1.5 + 8 + 2 = 11.5, so 12 s. It must stay below the API's integration timeout, or a
 * slow request would end in the gateway's bare 503 instead of the function's problem+json.
 */
export const TIMEOUT_HEADROOM_MS = 2000;
/** HTTP APIs wait at most 30 s for an integration; CDK accepts at most 29 s, set explicitly. */
export const API_GATEWAY_INTEGRATION_TIMEOUT = Duration.seconds(29);

export function functionTimeoutFor(settings: Pick<Settings, 'JWKS_TIMEOUT_MS' | 'REQUEST_BUDGET_MS'>): Duration {
  const seconds = Math.ceil((settings.JWKS_TIMEOUT_MS + settings.REQUEST_BUDGET_MS + TIMEOUT_HEADROOM_MS) / 1000);
  if (seconds >= API_GATEWAY_INTEGRATION_TIMEOUT.toSeconds()) {
    throw new Error(
      `JWKS_TIMEOUT_MS + REQUEST_BUDGET_MS + ${TIMEOUT_HEADROOM_MS} ms headroom is ${seconds} s: it must stay below the API's ${API_GATEWAY_INTEGRATION_TIMEOUT.toSeconds()} s integration timeout.`,
    );
  }
  return Duration.seconds(seconds);
}

const APPLICATION_LOG_LEVELS = {
  debug: ApplicationLogLevel.DEBUG,
  info: ApplicationLogLevel.INFO,
  warn: ApplicationLogLevel.WARN,
  error: ApplicationLogLevel.ERROR,
} as const;

export interface LinkTokenFunctionProps {
  /** The stage's tenants file: validated by the build and written into the asset as tenants.compiled.json beside index.mjs. */
  readonly tenantsFilePath: string;
  readonly secrets: TenantSecrets;
  /** The items vault: its table and key reach the function through the environment. */
  readonly vault: ItemsVault;
  /** The bus verified webhooks are published on: its name reaches the function through the environment. */
  readonly webhooks: WebhookBus;
  /** The stage's publicBaseUrl (already checked to be https), the function's PUBLIC_BASE_URL. */
  readonly publicBaseUrl?: string;
  readonly logLevel: keyof typeof APPLICATION_LOG_LEVELS;
  /** The stage's xrayTracing (infra/stages.ts): Lambda's active tracing, and the role's right to send traces. */
  readonly xrayTracing: boolean;
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

export class LinkTokenFunction extends Construct {
  readonly function: LambdaFunction;
  readonly logGroup: LogGroup;
  /** The settings the function will run with (its defaults plus the environment set here). */
  readonly settings: Settings;

  constructor(scope: Construct, id: string, props: LinkTokenFunctionProps) {
    super(scope, id);
    // The handler is index.mjs's `handler` (ESM); the local stack imports the same file.
    if (LAMBDA_BUNDLING.outfileName !== 'index.mjs' || LAMBDA_BUNDLING.format !== 'esm') {
      throw new Error('lambda-bundling.ts must produce index.mjs (ESM): the function runs index.handler.');
    }

    // The vault's table name and key ARN and the bus name are deploy-time tokens here; settings
    // that do not know them pass them through untouched.
    const environment: Record<string, string> = {
      LOG_LEVEL: props.logLevel,
      ...props.vault.environment,
      ...props.webhooks.environment,
      // Unset, the function derives the webhook base URL from each request's domain and stage.
      ...(props.publicBaseUrl === undefined ? {} : { PUBLIC_BASE_URL: props.publicBaseUrl }),
    };
    // Validated now, exactly as the function will at cold start, so a bad value fails synth.
    this.settings = readSettings(environment, pathToFileURL(props.tenantsFilePath));

    // Created here rather than by Lambda on first write, so it has a retention and is deleted
    // (or kept) with the stack instead of living forever.
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });

    // Its own role, not AWSLambdaBasicExecutionRole: that managed policy may write to every log
    // group of the account, this one only to the function's.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description:
        "link-token function: write its own logs, read its tenants' secrets, use the items vault, publish verified webhooks",
    });
    this.logGroup.grantWrite(role);
    props.secrets.grantRead(role);
    props.vault.grantFunctionAccess(role);
    props.webhooks.grantPublish(role);

    this.function = new LambdaFunction(this, 'Function', {
      description: 'Mints Plaid Link tokens, keeps Items and receives Plaid webhooks for the configured tenants',
      // Bundled here, at synth, by esbuild on this machine (never Docker), with the one definition
      // the local stack uses. Not NodejsFunction: it writes a single --outfile, and the bundle is
      // split so that the items, webhook and event clients load only on first use.
      code: Code.fromAsset(bundleFunction(props.tenantsFilePath)),
      handler: 'index.handler',
      runtime: Runtime.NODEJS_24_X,
      // Graviton: about 20% cheaper per GB-second than x86_64, and the bundle is plain JavaScript.
      architecture: Architecture.ARM_64,
      memorySize: FUNCTION_MEMORY_MB,
      timeout: functionTimeoutFor(this.settings),
      role,
      logGroup: this.logGroup,
      // The function already writes one JSON object per line with a "level" key; in JSON format
      // Lambda's own lines (start, report) are JSON too, and the level filter matches LOG_LEVEL.
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: APPLICATION_LOG_LEVELS[props.logLevel],
      systemLogLevelV2: SystemLogLevel.INFO,
      // Off: the property is left out (Lambda's default, PassThrough: no trace recorded, the
      // trace header passed on). On: CDK also grants the role xray:PutTraceSegments and
      // xray:PutTelemetryRecords, on "*" because X-Ray has no resource-level permissions.
      ...(props.xrayTracing ? { tracing: Tracing.ACTIVE } : {}),
      environment,
    });
    // The environment names the bus (a plain string, not a Ref): created before the function.
    this.function.node.addDependency(props.webhooks.bus);
    if (props.xrayTracing) {
      Validations.of(role.node.findChild('DefaultPolicy').node.defaultChild!).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray active tracing (stage option xrayTracing): xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so "*" is the only resource they can be granted on; they write traces and nothing else.',
      });
    }
  }
}

/**
 * The asset folder: index.mjs, its chunks and source maps, and the stage's tenants file beside
 * them as the build validated it, tenants.compiled.json (the config travels with the code: one asset, one version, nothing
 * fetched at run time). Its content decides the asset hash, so an unchanged build deploys nothing.
 */
function bundleFunction(tenantsFilePath: string): string {
  const outdir = mkdtempSync(join(tmpdir(), 'link-token-asset-'));
  execFileSync(process.execPath, [LAMBDA_BUNDLING_SCRIPT, outdir, tenantsFilePath], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  // The build's metafile is for the benchmark's analysis, not for Lambda.
  rmSync(join(outdir, 'metafile.json'));
  return outdir;
}
