import { describe, expect, test } from 'vitest';
import { suggest } from './suggest.js';

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
});
