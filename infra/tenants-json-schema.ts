// `npm run schema`: writes infra/tenants.schema.json, the JSON Schema of the tenants file, from
// the valibot schema the function and `cdk synth` validate with. Editors use it (the tenants
// files name it in "$schema") for completion and early errors; it is generated, never edited,
// and a test fails when the committed copy differs from what this produces.
//
// JSON Schema cannot say everything valibot checks: trimming, "no duplicates", "a default
// profile must exist" and the rules across fields (tenant-rules.ts) are checked at synth only.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { toJsonSchema } from '@valibot/to-json-schema';
import { TenantsFileSchema } from '../lambda/config/tenant-schema.ts';

export const TENANTS_JSON_SCHEMA_FILE = fileURLToPath(new URL('./tenants.schema.json', import.meta.url));

export function tenantsJsonSchema(): Record<string, unknown> {
  const schema = toJsonSchema(TenantsFileSchema, {
    target: 'draft-07',
    // Editors check what a person writes: optional fields with defaults stay optional.
    typeMode: 'input',
    // trim and check have no JSON Schema equivalent (see above); anything else must convert.
    ignoreActions: ['trim', 'check'],
    errorMode: 'throw',
  });
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Link token service tenants file',
    description:
      'Tenants of the Plaid Link token service for one stage. Generated from lambda/config/tenant-schema.ts by `npm run schema`; `cdk synth` applies further rules across fields.',
    ...schema,
  };
}

export function renderTenantsJsonSchema(): string {
  return `${JSON.stringify(tenantsJsonSchema(), null, 2)}\n`;
}

if (import.meta.main) {
  writeFileSync(TENANTS_JSON_SCHEMA_FILE, renderTenantsJsonSchema());
  process.stdout.write(`wrote ${TENANTS_JSON_SCHEMA_FILE}\n`);
}
