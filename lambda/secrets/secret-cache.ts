// Keeps secret values in memory so a warm request makes no Secrets Manager call. Concurrent
// misses share one fetch; a value older than its TTL is refreshed; `invalidate` forces the next
// read to fetch again (used once when Plaid reports rotated keys). If a refresh fails while a
// recent value is at hand, that value keeps serving for a bounded time instead of failing users.
// It is the domain's SecretSource port (domain/ports.ts).
import type { SecretSource } from '../domain/ports.ts';

interface Entry {
  value?: string;
  fetchedAt: number;
  pending?: Promise<string>;
}

export function createSecretCache(opts: {
  fetch: (secretId: string) => Promise<string>;
  ttlMs: number;
  /** How long past its TTL a value may serve while Secrets Manager fails. */
  staleIfErrorMs: number;
  now?: () => number;
  onStaleServed?: (secretId: string, error: unknown) => void;
}): SecretSource {
  const now = opts.now ?? Date.now;
  const entries = new Map<string, Entry>();

  const refresh = (secretId: string, entry: Entry): Promise<string> => {
    entry.pending ??= opts
      .fetch(secretId)
      .then(
        (value) => {
          entry.value = value;
          entry.fetchedAt = now();
          return value;
        },
        (error: unknown) => {
          const age = now() - entry.fetchedAt;
          if (entry.value !== undefined && age <= opts.ttlMs + opts.staleIfErrorMs) {
            opts.onStaleServed?.(secretId, error);
            return entry.value;
          }
          throw error;
        },
      )
      .finally(() => {
        entry.pending = undefined;
      });
    return entry.pending;
  };

  const fresh = (entry: Entry | undefined): string | undefined =>
    entry?.value !== undefined && now() - entry.fetchedAt < opts.ttlMs ? entry.value : undefined;

  return {
    async get(secretId) {
      let entry = entries.get(secretId);
      if (!entry) {
        entry = { fetchedAt: 0 };
        entries.set(secretId, entry);
      }
      return fresh(entry) ?? refresh(secretId, entry);
    },
    invalidate(secretId) {
      // Dropping the value (not only its age) makes sure a rejected credential is never served stale.
      entries.delete(secretId);
    },
  };
}
