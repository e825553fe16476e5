import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveClientUserId } from '../../lambda/domain/client-user-id.ts';

const key = 'k'.repeat(48);
const derive = (tenantId: string, subject: string, k = key) =>
  deriveClientUserId({ strategy: 'hmac-sha256', tenantId, subject, key: k });

test('hmac-sha256: stable, opaque base64url of 43 characters', () => {
  const id = derive('acme', 'user@example.com');
  assert.equal(id, derive('acme', 'user@example.com'));
  assert.match(id, /^[A-Za-z0-9_-]{43}$/);
  assert.ok(!id.includes('user') && !id.includes('example'));
});

test('hmac-sha256: the known answer, so a deploy never silently changes every user id', () => {
  // HMAC-SHA256(key="k"*48, "acme:user-123"), base64url; recomputed with `openssl dgst -sha256 -hmac`.
  assert.equal(derive('acme', 'user-123'), 'zBVDhhW8PJ056Gtx6A6lg-Jqzd1opjVpiA_8-laQyC4');
});

test('hmac-sha256: different per tenant and per key', () => {
  assert.notEqual(derive('acme', 'user-123'), derive('globex', 'user-123'));
  assert.notEqual(derive('acme', 'user-123'), derive('acme', 'user-123', 'j'.repeat(48)));
  // "tenant:subject" cannot collide across the boundary: tenant ids have no ':'.
  assert.notEqual(derive('a', 'b:c'), derive('a-b', 'c'));
});

test('hmac-sha256 refuses a short key', () => {
  assert.throws(() => derive('acme', 'user-123', 'short'), /at least 32 characters/);
});

test('subject strategy passes opaque subjects and refuses PII-shaped ones', () => {
  assert.equal(
    deriveClientUserId({
      strategy: 'subject',
      tenantId: 'acme',
      subject: '7d0e2f4a-91b2-4c1e-a8f3-0d5b2c6e9f10',
      key: '',
    }),
    '7d0e2f4a-91b2-4c1e-a8f3-0d5b2c6e9f10',
  );
  for (const subject of ['pat@example.com', '+1 415 555 0123', '4155550123']) {
    assert.throws(
      () => deriveClientUserId({ strategy: 'subject', tenantId: 'acme', subject, key: '' }),
      /cannot be used/,
    );
  }
});
