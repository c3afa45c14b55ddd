import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MAX_SUGGEST_LENGTH, suggest } from './suggest.js';

const BRANCHES = ['Default', 'OnSuccess', 'OnInvalidContactID', 'OnUnauthorized', 'OnInvalidSecurityUser'];

describe('suggest', () => {
  test('suggests the branch a typo was meant to be', () => {
    expect(suggest('OnSucess', BRANCHES)).toBe('OnSuccess');
    expect(suggest('OnUnauthorised', BRANCHES)).toBe('OnUnauthorized');
  });

  test('counts swapping two adjacent letters as one edit', () => {
    expect(suggest('KILLCONTCAT', ['KILLCONTACT', 'COMMITMENT'])).toBe('KILLCONTACT');
    expect(suggest('BEIGN', ['BEGIN', 'END'])).toBe('BEGIN');
  });

  test('always suggests a case-only difference, however long the word', () => {
    expect(suggest('oninvalidsecurityuser', BRANCHES)).toBe('OnInvalidSecurityUser');
    expect(suggest('chat', ['Generic', 'Chat', 'Phone'])).toBe('Chat');
  });

  test('prefers the closest candidate', () => {
    expect(suggest('Sucess', ['Success', 'Successes'])).toBe('Success');
    expect(suggest('ContactId', ['ContactID', 'Contact'])).toBe('ContactID');
  });

  test('suggests nothing when no candidate is close', () => {
    expect(suggest('Frobnicate', BRANCHES)).toBeUndefined();
    expect(suggest('OnSuccess', [])).toBeUndefined();
  });

  test('does not pair short words that have nothing in common', () => {
    expect(suggest('ab', ['IF'])).toBeUndefined();
    expect(suggest('x', ['y'])).toBeUndefined();
  });

  test('allows more edits in longer words', () => {
    expect(suggest('OnInvalidSecurtyUsr', BRANCHES)).toBe('OnInvalidSecurityUser');
    expect(suggest('OnSuces', BRANCHES)).toBe('OnSuccess');
    expect(suggest('Scs', ['Success'])).toBeUndefined();
  });

  test('finds what the whole edit-distance table finds, computing only the cells it needs', () => {
    // The table in full, and the rule as it was before the band and the cutoffs.
    const full = (a: string, b: string) => {
      const d = Array.from({ length: a.length + 1 }, (_, i) =>
        Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
      );
      for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
          const row = d[i]!;
          const above = d[i - 1]!;
          row[j] = Math.min(above[j]! + 1, row[j - 1]! + 1, above[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
          if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
            row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
        }
      }
      return d[a.length]![b.length]!;
    };
    const reference = (word: string, candidates: string[]) => {
      const threshold = Math.max(2, Math.floor(word.length / 3));
      let best: string | undefined;
      let bestDistance = Number.POSITIVE_INFINITY;
      for (const c of candidates) {
        if (Math.abs(word.length - c.length) > threshold) continue;
        const d = full(word.toLowerCase(), c.toLowerCase());
        if (d > threshold || (d > 0 && d >= Math.max(word.length, c.length))) continue;
        if (d < bestDistance) [best, bestDistance] = [c, d];
      }
      return best;
    };
    const text = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'A', '1'), maxLength: 14 });
    fc.assert(
      fc.property(text, fc.array(text, { maxLength: 12 }), (word, candidates) => {
        expect(suggest(word, candidates)).toBe(reference(word, candidates));
      }),
      { numRuns: 3000 },
    );
  });

  test('spends a budget shared by the calls, and looks no further once it is spent', () => {
    const ids = Array.from({ length: 50 }, (_, i) => `send-confirmation-${i}`);
    const budget = { cells: 1_000_000 };
    expect(suggest('send-confirmaton-49', ids, budget)).toBe('send-confirmation-49');
    const spent = 1_000_000 - budget.cells;
    expect(spent).toBeGreaterThan(0);
    // A band around the diagonal, not the whole table of every candidate.
    expect(spent).toBeLessThan(50 * 20 * 20);
    expect(suggest('send-confirmaton-49', ids, { cells: 0 })).toBeUndefined();
    // A case-only difference costs no cells: it is found whatever the budget.
    expect(suggest('SEND-CONFIRMATION-7', ids, { cells: 0 })).toBe('send-confirmation-7');
  });

  test('compares no word longer than it must (but still spots a case-only difference)', () => {
    const long = 'x'.repeat(MAX_SUGGEST_LENGTH);
    const budget = { cells: 1_000_000 };
    expect(suggest(`${long}y`, [`${long}z`], budget)).toBeUndefined();
    expect(budget.cells).toBe(1_000_000);
    expect(suggest(`${long}Y`, [`${long}y`])).toBe(`${long}y`);
    expect(suggest(`${long.slice(1)}y`, [`${long.slice(1)}z`])).toBe(`${long.slice(1)}z`);
  });
});
