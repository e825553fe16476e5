// The committed JSON Schema is generated from the valibot schema; it must not drift from it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderTenantsJsonSchema, TENANTS_JSON_SCHEMA_FILE } from '../../infra/tenants-json-schema.ts';

test('infra/tenants.schema.json is what `npm run schema` generates from the valibot schema', () => {
  assert.equal(
    readFileSync(TENANTS_JSON_SCHEMA_FILE, 'utf8'),
    renderTenantsJsonSchema(),
    'run `npm run schema` and commit the result',
  );
});

test('the JSON Schema knows the fields and closed vocabularies of the tenants file', () => {
  const schema = JSON.parse(renderTenantsJsonSchema());
  assert.deepEqual(schema.required, ['client_user_id_key_secret_id', 'tenants']);
  assert.equal(schema.additionalProperties, false);
  const tenant = schema.properties.tenants.additionalProperties;
  assert.deepEqual(tenant.properties.plaid.properties.environment.enum, ['sandbox', 'production']);
  assert.equal(tenant.properties.plaid.additionalProperties, false);
  assert.ok(tenant.properties.profiles.additionalProperties.properties.products.items.enum.includes('transactions'));
});
