// Plaid's user.client_user_id: stable for a user, opaque, never PII (Plaid shows it in its
// Dashboard logs). The default is an HMAC over tenant id and subject, so the same person gets
// unrelated ids in two tenants and nobody without the key can link an id back to a subject.
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { CLIENT_USER_ID_KEY_MIN_LENGTH } from '../config/tenant-names.ts';
import { ServiceFailure } from './failure.ts';

export type ClientUserIdStrategy = 'hmac-sha256' | 'subject';

const PII_SHAPE = /@|^\+?\d[\d\s().-]{6,}$/;

export function deriveClientUserId(input: {
  strategy: ClientUserIdStrategy;
  tenantId: string;
  subject: string;
  key: string;
}): string {
  if (input.strategy === 'subject') {
    // A subject that looks like an email address or a phone number must not reach Plaid.
    if (PII_SHAPE.test(input.subject)) {
      throw new ServiceFailure(
        'misconfigured',
        "The tenant's client_user_id strategy cannot be used with this identity provider.",
      );
    }
    return input.subject;
  }
  if (input.key.length < CLIENT_USER_ID_KEY_MIN_LENGTH) {
    throw new Error(`client_user_id key must be at least ${CLIENT_USER_ID_KEY_MIN_LENGTH} characters`);
  }
  // Tenant ids cannot contain ':', so "tenant:subject" is unambiguous.
  return createHmac('sha256', keyObjectOf(input.key)).update(`${input.tenantId}:${input.subject}`).digest('base64url');
}

// The key as a KeyObject, made once per key string (the same bytes: createHmac reads a string
// key as UTF-8): a string key would be converted again on every createHmac. One entry: the
// environment's one key, replaced when it rotates.
let lastKey: { text: string; keyObject: KeyObject } | undefined;
function keyObjectOf(text: string): KeyObject {
  if (lastKey === undefined || lastKey.text !== text)
    lastKey = { text, keyObject: createSecretKey(Buffer.from(text, 'utf8')) };
  return lastKey.keyObject;
}
