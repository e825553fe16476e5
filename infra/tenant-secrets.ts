// The secrets the tenants file points at: each tenant's Plaid credentials and the one
// client_user_id HMAC key. They are referenced by name or ARN only; no value ever passes
// through code, template or environment. This construct turns those references into the
// exact IAM resources the function may read and, when the stage opts in, creates the ones
// referenced by name (empty for Plaid keys, random for the HMAC key) for an operator to fill.
import { Arn, ArnFormat, Aws, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CfnSecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { TenantConfigError, type ConfigProblem } from '../lambda/config/load-tenants.ts';
import { CLIENT_USER_ID_KEY_MIN_LENGTH, type TenantsFile } from '../lambda/config/tenant-schema.ts';

// Secrets Manager's own rule for secret names.
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
// A complete secret ARN ends in the 6-character suffix Secrets Manager appends to the name.
const COMPLETE_ARN_SUFFIX = /-[A-Za-z0-9]{6}$/;
// Matches that suffix in an IAM resource: exactly six characters, never more.
const ARN_SUFFIX_WILDCARD = '-??????';
// A generated client_user_id key: letters and digits only (no quoting surprises), 64 of them.
const GENERATED_KEY_LENGTH = 64;

export type SecretPurpose = 'plaid-credentials' | 'client-user-id-key';

export interface SecretReference {
  /** As written in the tenants file: a name, or a (complete or partial) ARN. */
  readonly secretId: string;
  readonly purpose: SecretPurpose;
  /** Tenants whose Plaid credentials these are (empty for the key). */
  readonly tenants: readonly string[];
  readonly kind: 'name' | 'complete-arn' | 'partial-arn';
}

/**
 * Every distinct secret the file references, checked for shape. Names must be valid secret
 * names and ARNs must be Secrets Manager secret ARNs; problems name tenant and field.
 */
export function secretReferencesOf(file: TenantsFile, source: string): SecretReference[] {
  const problems: ConfigProblem[] = [];
  const byId = new Map<string, { purpose: SecretPurpose; tenants: string[] }>();
  const add = (secretId: string, purpose: SecretPurpose, where: Omit<ConfigProblem, 'message'>, tenant?: string) => {
    const problem = secretIdProblem(secretId);
    if (problem) problems.push({ ...where, message: problem });
    const entry = byId.get(secretId);
    if (entry && entry.purpose !== purpose) {
      problems.push({
        ...where,
        message: 'must not be the client_user_id key secret: the HMAC key and Plaid credentials are separate secrets',
      });
    }
    const target = entry ?? { purpose, tenants: [] };
    if (tenant) target.tenants.push(tenant);
    byId.set(secretId, target);
  };
  add(file.client_user_id_key_secret_id, 'client-user-id-key', { field: 'client_user_id_key_secret_id' });
  for (const [tenant, config] of Object.entries(file.tenants)) {
    add(config.plaid.secret_id, 'plaid-credentials', { tenant, field: 'plaid.secret_id' }, tenant);
  }
  if (problems.length > 0) throw new TenantConfigError(source, problems);
  return [...byId].map(([secretId, { purpose, tenants }]) => ({
    secretId,
    purpose,
    tenants,
    kind: secretIdKind(secretId),
  }));
}

function secretIdKind(secretId: string): SecretReference['kind'] {
  if (!secretId.startsWith('arn:')) return 'name';
  const { resourceName } = Arn.split(secretId, ArnFormat.COLON_RESOURCE_NAME);
  return COMPLETE_ARN_SUFFIX.test(resourceName ?? '') ? 'complete-arn' : 'partial-arn';
}

function secretIdProblem(secretId: string): string | undefined {
  if (!secretId.startsWith('arn:')) {
    return SECRET_NAME.test(secretId)
      ? undefined
      : 'must be a secret name (letters, digits and /_+=.@-, at most 512) or a secret ARN';
  }
  const parts = secretId.split(':');
  if (
    parts.length !== 7 ||
    parts[2] !== 'secretsmanager' ||
    parts[5] !== 'secret' ||
    !/^\d{12}$/.test(parts[4] ?? '') ||
    !SECRET_NAME.test(parts[6] ?? '')
  ) {
    return 'must be a Secrets Manager secret ARN such as arn:aws:secretsmanager:us-east-1:123456789012:secret:name-AbCdEf';
  }
  return undefined;
}

export interface TenantSecretsProps {
  readonly tenantsFile: TenantsFile;
  /** Where the file came from, for error messages. */
  readonly source: string;
  /** Create the secrets referenced by name (see StageSettings.createMissingSecrets). */
  readonly createMissingSecrets: boolean;
  /** Customer managed KMS key that encrypts the secrets, if not aws/secretsmanager. */
  readonly kmsKeyArn?: string;
}

export class TenantSecrets extends Construct {
  readonly references: readonly SecretReference[];
  /** The IAM resources that are exactly these secrets, one per reference. */
  readonly readableArns: readonly string[];
  private readonly kmsKeyArn?: string;

  constructor(scope: Construct, id: string, props: TenantSecretsProps) {
    super(scope, id);
    this.references = secretReferencesOf(props.tenantsFile, props.source);
    this.kmsKeyArn = props.kmsKeyArn;
    this.readableArns = this.references.map((reference) => {
      if (reference.kind === 'complete-arn') return reference.secretId;
      if (reference.kind === 'partial-arn') return `${reference.secretId}${ARN_SUFFIX_WILDCARD}`;
      if (props.createMissingSecrets) return this.createSecret(reference).ref;
      return Stack.of(this).formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: `${reference.secretId}${ARN_SUFFIX_WILDCARD}`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    });
  }

  /** Lets `grantee` read these secrets' values (GetSecretValue only) and nothing else. */
  grantRead(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadTenantSecrets',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [...this.readableArns],
      }),
    );
    if (this.kmsKeyArn) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'DecryptTenantSecrets',
          actions: ['kms:Decrypt'],
          resources: [this.kmsKeyArn],
          // Only when Secrets Manager decrypts on the function's behalf, never directly.
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
        }),
      );
    }
  }

  private createSecret(reference: SecretReference): CfnSecret {
    const isKey = reference.purpose === 'client-user-id-key';
    // The id derives from the name, so reordering tenants never replaces a secret.
    const secret = new CfnSecret(this, reference.secretId.replaceAll('/', '%2F'), {
      name: reference.secretId,
      description: isKey
        ? `HMAC key of Plaid client_user_ids (link-token service); generated, at least ${CLIENT_USER_ID_KEY_MIN_LENGTH} characters. Never rotate: every user's client_user_id would change.`
        : `Plaid API keys of tenant(s) ${reference.tenants.join(', ')} as {"client_id":"...","secret":"..."} (link-token service).`,
      kmsKeyId: this.kmsKeyArn,
      // Plaid keys start empty (no value in the template); an operator puts them. The HMAC key
      // is generated by Secrets Manager, so nobody needs to see or type it.
      generateSecretString: isKey ? { passwordLength: GENERATED_KEY_LENGTH, excludePunctuation: true } : undefined,
    });
    // Keys a person put there are never deleted by a stack operation, in any stage.
    secret.applyRemovalPolicy(RemovalPolicy.RETAIN);
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: isKey
        ? 'The client_user_id HMAC key must stay fixed: rotating it would give every end user a new Plaid client_user_id.'
        : 'Plaid API secrets are issued and rotated in the Plaid Dashboard, not by a Lambda; after rotating there, put the new value (the function refetches on INVALID_API_KEYS).',
    });
    return secret;
  }
}
