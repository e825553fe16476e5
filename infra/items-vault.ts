// The items vault: the DynamoDB table of each user's Plaid Items and Plaid user
// record, and the customer managed KMS key that encrypts their access and user tokens. The
// function gets exactly the operations it performs; each tenant gets a managed policy that reads
// its own records and decrypts its own tokens, for the tenant's back end to attach to its role.
// Record layout and encryption contexts: see the items code (one bundle, lazily loaded).
import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { TenantConfigError } from '../lambda/config/load-tenants.ts';
import { TENANT_ID_PATTERN } from '../lambda/config/tenant-schema.ts';

/** pk = `<tenant_id>#<client_user_id>`: a tenant's records share the prefix `<tenant_id>#`. */
export const ITEMS_PARTITION_KEY = 'pk';
/** sk = `item#<item_id>` for an Item, `plaid_user` for the user's Plaid user record. */
export const ITEMS_SORT_KEY = 'sk';
/** The index that finds an Item's owner from its tenant and item_id (webhooks name only those). */
export const ITEMS_BY_ITEM_INDEX = 'by-item';
/** by-item's partition key: `<tenant_id>#<item_id>`, the same tenant prefix as pk. */
export const ITEMS_BY_ITEM_KEY = 'item_key';

/** The function's environment entries that point it at the vault (read by the items code). */
export interface ItemsVaultEnvironment {
  readonly ITEMS_TABLE_NAME: string;
  readonly VAULT_KMS_KEY_ID: string;
}

export interface ItemsVaultProps {
  /** The tenants of the stage's tenants file: one reader policy each. */
  readonly tenantIds: readonly string[];
  /** See StageSettings.protectItemsVault. */
  readonly protect: boolean;
}

export class ItemsVault extends Construct {
  readonly table: dynamodb.Table;
  readonly key: kms.Key;
  /** The by-item index as an IAM resource (a grant on the table does not cover its indexes). */
  readonly byItemIndexArn: string;
  readonly environment: ItemsVaultEnvironment;
  /** One managed policy per tenant id, in the order of the tenants file. */
  readonly readerPolicies: ReadonlyMap<string, iam.ManagedPolicy>;

  constructor(scope: Construct, id: string, props: ItemsVaultProps) {
    super(scope, id);
    const removalPolicy = props.protect ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the items vault of ${Stack.of(this).stackName}: Plaid access and user tokens (encryption context tenant_id, client_user_id, item_id) and the items table at rest`,
      // Symmetric, so Encrypt/Decrypt with an encryption context bind each ciphertext to its
      // owner (the defaults, written out because the items code depends on them).
      keySpec: kms.KeySpec.SYMMETRIC_DEFAULT,
      keyUsage: kms.KeyUsage.ENCRYPT_DECRYPT,
      // Yearly rotation of the backing key; old ciphertexts still decrypt, nothing to re-encrypt.
      enableKeyRotation: true,
      // Without this key every stored token is unreadable: in prod it outlives the stack, and a
      // deletion someone schedules by hand can be cancelled for the longest period KMS allows.
      // A dev key goes with its table, after the shortest one.
      removalPolicy,
      pendingWindow: Duration.days(props.protect ? 30 : 7),
    });

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: ITEMS_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: ITEMS_SORT_KEY, type: dynamodb.AttributeType.STRING },
      // Traffic follows users linking banks: bursty and small. On demand has no capacity to
      // plan or throttle at, and an idle stage pays for storage only.
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // Restore to any second of the last 35 days (the default window) after a bad write or delete.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Webhook replay records (pk ~webhook#<tenant>) carry expires_at: DynamoDB deletes them
      // after it, so they do not pile up. Items and Plaid users have no expires_at and stay.
      timeToLiveAttribute: 'expires_at',
      deletionProtection: props.protect,
      removalPolicy,
      // The same key as the tokens: one key to audit, rotate and protect. Every principal that
      // reads or writes the table therefore needs kms:Decrypt on it, through DynamoDB.
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: ITEMS_BY_ITEM_INDEX,
      partitionKey: { name: ITEMS_BY_ITEM_KEY, type: dynamodb.AttributeType.STRING },
      // The owner's pk and sk are all a lookup needs; the record itself is read by GetItem, so
      // no token ciphertext is copied into the index.
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
    this.byItemIndexArn = `${this.table.tableArn}/index/${ITEMS_BY_ITEM_INDEX}`;

    this.environment = { ITEMS_TABLE_NAME: this.table.tableName, VAULT_KMS_KEY_ID: this.key.keyArn };

    const policies = new Map<string, iam.ManagedPolicy>();
    for (const tenantId of props.tenantIds) policies.set(tenantId, this.createReaderPolicy(tenantId));
    this.readerPolicies = policies;
  }

  /** The operations the function performs on the vault, on exactly its table, index and key. */
  grantFunctionAccess(grantee: iam.IGrantable): void {
    const principal = grantee.grantPrincipal;
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ItemsVaultRecords',
        actions: [
          // Read one Item (to remove it, or for update mode) and the user's Plaid user record.
          'dynamodb:GetItem',
          // Store a newly exchanged Item or Plaid user record (conditional: never overwrite one).
          'dynamodb:PutItem',
          // Change a stored record in place, e.g. an Item's status (conditional: only if it exists).
          'dynamodb:UpdateItem',
          // DELETE /items/{item_id}: drop the caller's Item record (conditional: only if it exists).
          'dynamodb:DeleteItem',
          // GET /items: one user's Items, a Query on their pk (never a Scan across users).
          'dynamodb:Query',
        ],
        resources: [this.table.tableArn],
      }),
    );
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ItemsVaultFindItemOwner',
        // Find the owner of an Item from `<tenant_id>#<item_id>`; Query is the only read of an index.
        actions: ['dynamodb:Query'],
        resources: [this.byItemIndexArn],
      }),
    );
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ItemsVaultTokens',
        actions: [
          // Encrypt an access token or Plaid user token, bound to its owner by encryption context,
          // before it is stored.
          'kms:Encrypt',
          // Decrypt one to call Plaid with it; also what DynamoDB does with this key on the
          // function's behalf to open the table (encrypted with the same key).
          'kms:Decrypt',
        ],
        resources: [this.key.keyArn],
      }),
    );
  }

  /**
   * Read access to one tenant's records and tokens: DynamoDB refuses any key outside the
   * tenant's prefix and KMS any ciphertext whose encryption context names another tenant.
   */
  private createReaderPolicy(tenantId: string): iam.ManagedPolicy {
    // `<tenant_id>#*` matches no other tenant's keys only because tenant ids never contain '#'
    // (the tenant schema's pattern): `acme#*` does not match `acme-budget#…`.
    if (!TENANT_ID_PATTERN.test(tenantId))
      throw new Error(`Tenant id ${JSON.stringify(tenantId)} does not match ${TENANT_ID_PATTERN}.`);
    // Every partition key the request names (pk on the table, item_key on the index) must start
    // with the tenant's prefix. dynamodb:LeadingKeys is multivalued, hence ForAllValues; that
    // also holds for a request naming no key at all (a Scan, were one ever added to these
    // actions), which the Null check refuses.
    const ownPartitionsOnly = {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${tenantId}#*`] },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    };
    return new iam.ManagedPolicy(this, `ReaderPolicy-${tenantId}`, {
      description: `Read tenant ${tenantId}'s Items and Plaid user records in the items vault of ${Stack.of(this).stackName} and decrypt their tokens, nothing of other tenants`,
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadOwnRecords',
          actions: ['dynamodb:GetItem', 'dynamodb:Query'],
          resources: [this.table.tableArn],
          conditions: ownPartitionsOnly,
        }),
        new iam.PolicyStatement({
          sid: 'FindOwnItems',
          // Query is the only read of an index.
          actions: ['dynamodb:Query'],
          resources: [this.byItemIndexArn],
          conditions: ownPartitionsOnly,
        }),
        new iam.PolicyStatement({
          sid: 'DecryptOwnTokens',
          actions: ['kms:Decrypt'],
          resources: [this.key.keyArn],
          conditions: { StringEquals: { 'kms:EncryptionContext:tenant_id': tenantId } },
        }),
        new iam.PolicyStatement({
          sid: 'OpenTableThroughDynamoDB',
          // The table is encrypted with the same key: DynamoDB decrypts its table key with the
          // caller's permission. Only DynamoDB may do so, only for this table, so this opens no
          // token ciphertext (their context names a tenant, not a table).
          actions: ['kms:Decrypt'],
          resources: [this.key.keyArn],
          conditions: {
            StringEquals: {
              'kms:ViaService': `dynamodb.${Aws.REGION}.amazonaws.com`,
              'kms:EncryptionContext:aws:dynamodb:tableName': this.table.tableName,
            },
          },
        }),
      ],
    });
  }
}

/**
 * Each tenant id as part of a CloudFormation output name, which allows letters and digits only:
 * `acme-budget` → `AcmeBudget`. Ids that would share a name (`a-1`, `a1`) fail synth, naming
 * the tenants file they come from.
 */
export function outputNamesOf(tenantIds: readonly string[], source: string): ReadonlyMap<string, string> {
  const names = new Map<string, string>();
  const owners = new Map<string, string>();
  for (const tenantId of tenantIds) {
    const name = tenantId
      .split('-')
      .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
      .join('');
    const other = owners.get(name);
    if (other !== undefined) {
      throw new TenantConfigError(source, [
        {
          tenant: tenantId,
          message: `would share the reader policy output name ${name} with tenant '${other}': rename one of them`,
        },
      ]);
    }
    owners.set(name, tenantId);
    names.set(tenantId, name);
  }
  return names;
}
