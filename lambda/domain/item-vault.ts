// The port through which the domain keeps each user's Items and Plaid user: what it needs of a
// store, in its own words. The adapter (vault/dynamodb-kms-vault.ts) encrypts every token it is
// given under the owner it is given; a record read back under any other owner yields nothing.

/** Whose records these are: a tenant and the Plaid client_user_id derived from the verified user. */
export interface ItemOwner {
  readonly tenantId: string;
  readonly clientUserId: string;
}

export const ITEM_STATUSES = ['healthy', 'login_required', 'pending_expiration', 'pending_disconnect', 'new_accounts_available', 'revoked'] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

export interface StoredItem {
  readonly itemId: string;
  readonly institutionId: string | null;
  readonly institutionName: string | null;
  readonly status: ItemStatus;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly updatedAt: string;
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
  getItem(owner: ItemOwner, itemId: string): Promise<StoredItem | undefined>;
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
}
