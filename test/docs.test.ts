import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderActionReference } from '../src/actions/reference.js';
import { actions } from '../src/actions/registry.js';

describe('docs/actions.md', () => {
  it('is generated from the action declarations (run `npm run docs` after changing an action)', () => {
    expect(readFileSync('docs/actions.md', 'utf8')).toBe(renderActionReference(actions));
  });

  it('documents every action with its branches', () => {
    const text = readFileSync('docs/actions.md', 'utf8');
    for (const a of actions.all()) {
      expect(text).toContain(`## ${a.name}`);
      for (const branch of Object.keys(a.branches)) expect(text).toContain(`\`${branch}\``);
    }
  });
});
