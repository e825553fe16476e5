// How tenant ids and profile names are spelt, and the shortest client_user_id key. Apart from tenant-schema.ts so that the request
// path (which checks a client's profile name) does not pull the whole schema into the cold start:
// the schema's module-level objects are built on import, and esbuild cannot drop them.
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const PROFILE_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,39}$/;

/**
 * The shortest client_user_id HMAC key (the secret client_user_id_key_secret_id names) the
 * function accepts; the stack generates longer ones (infra/tenant-secrets.ts) and says so.
 */
export const CLIENT_USER_ID_KEY_MIN_LENGTH = 32;
