// Verifies a Plaid webhook as Plaid's webhook-verification guide lays out, with `jose` doing the
// JWT work: the Plaid-Verification header is an ES256 JWT naming its key by kid; the key comes
// from /webhook_verification_key/get with the tenant's credentials and is cached by kid; iat may
// be at most five minutes old; the JWT's request_body_sha256 must equal the SHA-256 of the exact
// request bytes, compared in constant time.
//
// Forged headers cannot make the function hammer Plaid: an unknown kid costs at most one fetch
// (concurrent ones share it, a kid Plaid does not know is remembered as unknown), and the
// unknown-kid fetches of each tenant are capped per minute. While a flood of forged kids holds a
// tenant's cap, a genuinely new key of Plaid's waits for the next minute: the webhook is refused
// and Plaid retries it (30 s later, then at growing intervals), so it is delayed, not lost.
import { createHash, timingSafeEqual } from 'node:crypto';
import { decodeProtectedHeader, importJWK, jwtVerify, errors as joseErrors, type CryptoKey, type JWK } from 'jose';
import type { Tenant } from '../config/tenant-schema.ts';
import { ServiceFailure } from '../domain/failure.ts';
import type { VerifiedWebhook, WebhookVerifier } from '../domain/ports.ts';
import { plaidBaseUrl, readCredentials } from '../domain/upstream.ts';
import type { PlaidApi, SecretSource } from '../domain/ports.ts';

/** Plaid's guide: reject a webhook whose JWT was issued more than five minutes ago. */
export const MAX_WEBHOOK_AGE_SECONDS = 5 * 60;
/** A cached key is looked up again after this long, to learn an expired_at set since (rotation). */
const KEY_TTL_MS = 60 * 60_000;
/** A kid Plaid answered "unknown" for is not asked about again for this long. */
const UNKNOWN_KID_TTL_MS = 10 * 60_000;
/** At most this many fetches for kids not in the cache, per tenant and minute. */
const NEW_KID_FETCHES_PER_MINUTE = 10;
const KEY_FETCH_TIMEOUT_MS = 2000;

interface CachedKey {
  readonly key: CryptoKey;
  readonly expiredAt: number | null;
  readonly fetchedAt: number;
}

export interface PlaidWebhookVerifierDeps {
  readonly plaid: PlaidApi;
  readonly secrets: SecretSource;
  readonly plaidBaseUrlOverride?: string;
  readonly now: () => number;
  /** Called for every key fetch (tests and logs). */
  readonly onKeyFetch?: (tenantId: string) => void;
}

export function createPlaidWebhookVerifier(deps: PlaidWebhookVerifierDeps): WebhookVerifier {
  const keys = new Map<string, CachedKey>();
  const unknownKids = new Map<string, number>();
  const inFlight = new Map<string, Promise<CachedKey | undefined>>();
  const fetchWindows = new Map<string, { start: number; fetches: number }>();

  const refused = (reason: string, detail = 'The webhook could not be verified.') =>
    new ServiceFailure('webhook_unverified', detail, { cause: { name: reason } });

  function takeFetchBudget(tenantId: string): boolean {
    const now = deps.now();
    let window = fetchWindows.get(tenantId);
    if (!window || now - window.start >= 60_000) fetchWindows.set(tenantId, (window = { start: now, fetches: 0 }));
    if (window.fetches >= NEW_KID_FETCHES_PER_MINUTE) return false;
    window.fetches += 1;
    return true;
  }

  async function fetchKey(tenant: Tenant, kid: string): Promise<CachedKey | undefined> {
    deps.onKeyFetch?.(tenant.id);
    const credentials = await readCredentials(deps.secrets, tenant.plaid.secret_id);
    const outcome = await deps.plaid.call<JWK & { expired_at?: number | null }>('/webhook_verification_key/get', {
      baseUrl: plaidBaseUrl(tenant, deps.plaidBaseUrlOverride),
      credentials,
      body: { key_id: kid },
      deadline: deps.now() + KEY_FETCH_TIMEOUT_MS,
      repeatable: true,
      read: (json) => {
        const key = json.key as Record<string, unknown> | undefined;
        return key && typeof key === 'object' && key.kid === kid ? key : undefined;
      },
    });
    if (!outcome.ok) {
      if (
        outcome.kind === 'plaid_error' &&
        outcome.error.status >= 400 &&
        outcome.error.status < 500 &&
        outcome.error.status !== 429
      ) {
        unknownKids.set(`${tenant.id}:${kid}`, deps.now() + UNKNOWN_KID_TTL_MS);
        return undefined;
      }
      // Plaid unreachable: the webhook cannot be verified now, and Plaid retries a non-200 answer.
      throw new ServiceFailure(
        'upstream_unavailable',
        "Plaid's webhook verification key is unavailable; try again later.",
        {
          cause: { name: `WebhookKeyFetch_${outcome.kind}` },
        },
      );
    }
    const {
      expired_at,
      created_at: _created,
      ...jwk
    } = outcome.value as JWK & { expired_at?: number | null; created_at?: number };
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') return undefined;
    const key = (await importJWK({ ...jwk, alg: 'ES256' }, 'ES256')) as CryptoKey;
    const cached: CachedKey = {
      key,
      expiredAt: typeof expired_at === 'number' ? expired_at : null,
      fetchedAt: deps.now(),
    };
    keys.set(`${tenant.id}:${kid}`, cached);
    return cached;
  }

  async function keyFor(tenant: Tenant, kid: string): Promise<CachedKey | undefined> {
    const id = `${tenant.id}:${kid}`;
    const cached = keys.get(id);
    if (cached && deps.now() - cached.fetchedAt < KEY_TTL_MS) return cached;
    if ((unknownKids.get(id) ?? 0) > deps.now()) return undefined;
    // A kid not in the cache spends the shared budget; refreshing a known one does not.
    if (!cached && !takeFetchBudget(tenant.id)) throw refused('KeyFetchBudgetExhausted');
    let pending = inFlight.get(id);
    if (!pending) {
      pending = fetchKey(tenant, kid)
        .then(async (fetched) => {
          // A new key means Plaid rotated: the keys cached before it may carry an expired_at now.
          if (fetched && !cached) await refreshOthers(tenant, kid);
          return fetched;
        })
        .finally(() => inFlight.delete(id));
      inFlight.set(id, pending);
    }
    return pending;
  }

  async function refreshOthers(tenant: Tenant, newKid: string): Promise<void> {
    const prefix = `${tenant.id}:`;
    const others = [...keys.entries()].filter(
      ([id, key]) => id.startsWith(prefix) && id !== `${prefix}${newKid}` && key.expiredAt === null,
    );
    await Promise.allSettled(others.map(([id]) => fetchKey(tenant, id.slice(prefix.length))));
  }

  return {
    async verify(tenant, header, rawBody) {
      if (!header) throw refused('MissingVerificationHeader', 'The Plaid-Verification header is required.');
      let alg: unknown;
      let kid: unknown;
      try {
        ({ alg, kid } = decodeProtectedHeader(header));
      } catch {
        throw refused('MalformedVerificationHeader');
      }
      // Only ES256, decided before any key is fetched: alg none and HS256 never reach jose.
      if (alg !== 'ES256') throw refused('AlgorithmNotES256');
      if (typeof kid !== 'string' || kid === '' || kid.length > 256) throw refused('MissingKid');

      const key = await keyFor(tenant, kid);
      if (!key) throw refused('UnknownKid');
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(header, key.key, {
          algorithms: ['ES256'],
          maxTokenAge: MAX_WEBHOOK_AGE_SECONDS,
          requiredClaims: ['iat', 'request_body_sha256'],
          clockTolerance: 30,
          currentDate: new Date(deps.now()),
        }));
      } catch (error) {
        throw refused(joseReason(error));
      }
      const iat = payload.iat as number;
      if (key.expiredAt !== null && iat >= key.expiredAt) throw refused('KeyExpired');
      const claimed = payload.request_body_sha256;
      const actual = createHash('sha256').update(rawBody).digest();
      if (
        typeof claimed !== 'string' ||
        !/^[0-9a-f]{64}$/i.test(claimed) ||
        !timingSafeEqual(Buffer.from(claimed, 'hex'), actual)
      ) {
        throw refused('BodyHashMismatch');
      }
      return { iat, bodySha256: actual.toString('hex') } satisfies VerifiedWebhook;
    },
  };
}

function joseReason(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'JwtTooOld';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'SignatureInvalid';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `ClaimInvalid_${error.claim}`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'AlgorithmNotES256';
  return 'JwtInvalid';
}
