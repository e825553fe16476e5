// The tenant-count sweep's generated tenants files are files the product accepts (the one schema
// and its rules, through load-tenants.ts), with one issuer, audience, origin and Plaid secret per
// tenant, and its schedule visits every (count, prefetch) cell once per run in a varying order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tenantsById, validateTenantsFile } from '../../lambda/config/load-tenants.ts';
import {
  generateTenantsFile,
  SWEEP_CLIENT_USER_ID_KEY_SECRET_ID,
  sweepSchedule,
  sweepSecretIds,
  tenantId,
  tenantIssuer,
} from '../../bench/lib/tenants-gen.ts';

const BASE = 'http://127.0.0.1:40123';

test('a generated file of 1,000 tenants validates, with no warnings, and each tenant has its own issuer, audience, origin and secret', () => {
  const { file, warnings } = validateTenantsFile(generateTenantsFile(1000, BASE), 'generated');
  assert.deepEqual(warnings, []);
  const tenants = [...tenantsById(file).values()];
  assert.equal(tenants.length, 1000);
  for (const key of [
    (t: (typeof tenants)[number]) => t.auth.issuer,
    (t: (typeof tenants)[number]) => t.auth.audience[0],
    (t: (typeof tenants)[number]) => t.allowed_origins[0],
    (t: (typeof tenants)[number]) => t.plaid.secret_id,
  ]) {
    assert.equal(new Set(tenants.map(key)).size, 1000);
  }
  assert.equal(file.tenants[tenantId(7)]!.auth.issuer, tenantIssuer(BASE, 7));
  assert.equal(file.tenants[tenantId(7)]!.auth.issuer, `${BASE}/issuers/7`);
});

test("the secrets to seed are the shared HMAC key and every tenant's Plaid secret, each once", () => {
  const file = validateTenantsFile(generateTenantsFile(12, BASE)).file;
  const ids = sweepSecretIds(12);
  assert.equal(ids[0], SWEEP_CLIENT_USER_ID_KEY_SECRET_ID);
  assert.equal(file.client_user_id_key_secret_id, ids[0]);
  assert.deepEqual(new Set(ids.slice(1)), new Set(Object.values(file.tenants).map((t) => t.plaid.secret_id)));
  assert.equal(new Set(ids).size, 13);
});

test('a tenant count that is not a positive integer is refused', () => {
  assert.throws(() => generateTenantsFile(0, BASE), RangeError);
  assert.throws(() => generateTenantsFile(2.5, BASE), RangeError);
});

test('the schedule runs every cell once per run, and no cell keeps the same place from run to run', () => {
  const schedule = sweepSchedule(4, [1, 10, 100], ['on', 'off']);
  assert.equal(schedule.length, 24);
  for (let run = 0; run < 4; run++) {
    const cells = schedule.filter((s) => s.run === run).map((s) => `${s.count}/${s.prefetch}`);
    assert.equal(new Set(cells).size, 6);
  }
  const firstOf = (run: number) => schedule.find((s) => s.run === run)!;
  const firsts = new Set([0, 1, 2, 3].map((r) => `${firstOf(r).count}/${firstOf(r).prefetch}`));
  assert.ok(firsts.size > 1, 'the same cell opened every run');
});
