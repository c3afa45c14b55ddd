import { describe, expect, it } from 'vitest';
import { createSimulatedClock } from '../clock.js';
import { createRefusalLog } from './refusal-log.js';

describe('the refusal log', () => {
  it('records each refusal up to the limit, then one summary, then nothing until the window ends', () => {
    const clock = createSimulatedClock(0);
    const log = createRefusalLog({ clock, perWindow: 3, windowMs: 60_000, maxAddresses: 10 });
    const decisions = Array.from({ length: 6 }, () => log.decide('10.0.0.7'));
    expect(decisions).toEqual(['record', 'record', 'record', 'summarize', 'skip', 'skip']);
    // Another address has a window of its own.
    expect(log.decide('10.0.0.8')).toBe('record');
    clock.advance(59_999);
    expect(log.decide('10.0.0.7')).toBe('skip');
    clock.advance(1);
    expect(log.decide('10.0.0.7')).toBe('record');
  });

  it('remembers at most maxAddresses: the oldest window is forgotten first', () => {
    const clock = createSimulatedClock(0);
    const log = createRefusalLog({ clock, perWindow: 1, windowMs: 60_000, maxAddresses: 2 });
    expect(['a', 'a'].map((ip) => log.decide(ip))).toEqual(['record', 'summarize']);
    log.decide('b');
    log.decide('c');
    // `a` was forgotten to make room for `c`: it starts a new window.
    expect(log.decide('a')).toBe('record');
  });
});
