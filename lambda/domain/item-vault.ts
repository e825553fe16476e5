// The port through which the domain keeps each user's Items and Plaid user: what it needs of a
// store, in its own words. The adapter (vault/dynamodb-kms-vault.ts) encrypts every token it is
// given under the owner it is given; a record read back under any other owner yields nothing.

/** Whose records these are: a tenant and the Plaid client_user_id derived from the verified user. */
export interface ItemOwner {
  readonly tenantId: string;
  readonly clientUserId: string;
}

export const ITEM_STATUSES = [
  'healthy',
  'login_required',
  'pending_expiration',
  'pending_disconnect',
  'new_accounts_available',
  'revoked',
] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

export interface StoredItem {
  readonly itemId: string;
  readonly institutionId: string | null;
  readonly institutionName: string | null;
  readonly status: ItemStatus;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly updatedAt: string;
  /** When Plaid said the Item's consent expires (PENDING_EXPIRATION), ISO 8601. */
  readonly consentExpirationTime?: string | null;
}

/** A change of an Item's health that a verified webhook reported. */
export interface ItemStatusChange {
  readonly status: ItemStatus;
  /** ISO 8601 time the change was received. */
  readonly at: string;
  /** The webhook JWT's iat: the last writer (by Plaid's clock) wins. */
  readonly iat: number;
  readonly consentExpirationTime?: string | null;
}

/** The user's Plaid user (/user/create): integrations since 2025-12 get a user_id only, older ones also a user_token. */
export interface PlaidUser {
  readonly userId: string;
  /** Secret: encrypted in the store like an access token. */
  readonly userToken?: string;
  readonly createdAt: string;
}

export interface ItemVault {
  /** The owner's Items, oldest first. */
  listItems(owner: ItemOwner): Promise<StoredItem[]>;
  /**
   * The Item's access token, decrypted under this owner and item id; undefined when the owner has
   * no such Item or its ciphertext was not encrypted for them (a record moved between users).
   */
  accessToken(owner: ItemOwner, itemId: string): Promise<string | undefined>;
  /** Stores a new Item; 'exists' when the owner already has one with this id (a retried exchange). */
  putItem(owner: ItemOwner, item: StoredItem, accessToken: string): Promise<'created' | 'exists'>;
  deleteItem(owner: ItemOwner, itemId: string): Promise<void>;
  plaidUser(owner: ItemOwner): Promise<PlaidUser | undefined>;
  /** 'exists' when another request stored the owner's Plaid user first. */
  putPlaidUser(owner: ItemOwner, user: PlaidUser): Promise<'created' | 'exists'>;
  /** Whose Item this is, within one tenant only; undefined for an item_id the tenant does not have. */
  findItemOwner(tenantId: string, itemId: string): Promise<ItemOwner | undefined>;
  /** 'stale' when a change with a later (or equal) iat was applied already; 'missing' when the Item is gone. */
  applyItemStatus(owner: ItemOwner, itemId: string, change: ItemStatusChange): Promise<'applied' | 'stale' | 'missing'>;
  /** Whether a webhook with this body hash was processed for this tenant (replays). */
  webhookProcessed(tenantId: string, bodySha256: string): Promise<boolean>;
  markWebhookProcessed(tenantId: string, bodySha256: string, keepUntilEpochSeconds: number): Promise<void>;
}
