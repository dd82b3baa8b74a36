/** The generated contract types are current. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CONTRACTS_FILE, renderContracts } from '../scripts/generate-contracts.js';

test('src/contracts.ts is what the generator writes from the schemas and the default policy (npm run generate)', () => {
  assert.equal(readFileSync(CONTRACTS_FILE, 'utf8'), renderContracts());
});
