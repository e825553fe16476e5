// CloudFormation logical ids that must never change: a renamed logical id is a new resource, and
// CloudFormation deletes the old one. The items table holds every user's access tokens (its
// Retain policy keeps the data but orphans it from the stack), the key is the only one that
// decrypts them, and the secrets hold Plaid's keys and the client_user_id key. Renaming a
// construct on their path fails here first; change these ids only with a migration plan.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { logicalIds, synthesize } from './synth.ts';

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

const PINNED = {
  'AWS::DynamoDB::Table': ['ItemsVaultTableF60CD63B'],
  'AWS::KMS::Key': ['ItemsVaultKeyACF38ED5'],
};

// dev creates its secrets (createMissingSecrets); prod names secrets made before the deploy.
const SECRETS: Record<'dev' | 'prod', string[]> = {
  dev: ['Secretslinktoken2Fdev2FclientuseridkeyD7A0CB10', 'Secretslinktoken2Fdev2Fplaid2Facmebudget8862B33C'],
  prod: [],
};

describe('logical ids of the resources that hold data', () => {
  for (const stage of ['dev', 'prod'] as const) {
    test(`${stage}: the items table and its key keep their logical ids; the secrets keep theirs`, () => {
      const s = synthesize({ ...NO_BUNDLING, stage });
      for (const [type, ids] of Object.entries(PINNED)) {
        for (const id of ids) assert.ok(logicalIds(s, type).includes(id), `${type} ${id} is gone (renamed?)`);
      }
      const secrets = logicalIds(s, 'AWS::SecretsManager::Secret').sort();
      assert.deepEqual(secrets, SECRETS[stage]);
    });
  }
});
