// An Item's health: what Plaid's ITEM webhooks say of it, and what the app should offer for it.
import type { ItemStatus, ItemStatusChange } from './ports.ts';

/** What an ITEM webhook says of the Item's health; undefined for webhooks that say nothing of it. */
export function statusChangeOf(
  body: Readonly<Record<string, unknown>>,
  iat: number,
  at: string,
): ItemStatusChange | undefined {
  if (body.webhook_type !== 'ITEM') return undefined;
  const error = body.error as { error_code?: unknown } | null | undefined;
  const status: ItemStatus | undefined = (() => {
    switch (body.webhook_code) {
      case 'ERROR':
        return error?.error_code === 'ITEM_LOGIN_REQUIRED' ? 'login_required' : undefined;
      case 'LOGIN_REPAIRED':
        return 'healthy';
      case 'PENDING_EXPIRATION':
        return 'pending_expiration';
      case 'PENDING_DISCONNECT':
        return 'pending_disconnect';
      case 'NEW_ACCOUNTS_AVAILABLE':
        return 'new_accounts_available';
      case 'USER_PERMISSION_REVOKED':
      case 'USER_ACCOUNT_REVOKED':
        return 'revoked';
      default:
        return undefined;
    }
  })();
  if (!status) return undefined;
  const consent = typeof body.consent_expiration_time === 'string' ? body.consent_expiration_time : null;
  return { status, at, iat, consentExpirationTime: status === 'pending_expiration' ? consent : null };
}

/** What the app should offer for an Item in this state (GET /items). */
export type ItemAction = 'update' | 'update_with_account_selection' | 'relink' | 'none';
export function actionFor(status: ItemStatus): ItemAction {
  switch (status) {
    case 'login_required':
    case 'pending_expiration':
    case 'pending_disconnect':
      return 'update';
    case 'new_accounts_available':
      return 'update_with_account_selection';
    case 'revoked':
      return 'relink';
    case 'healthy':
      return 'none';
  }
}
