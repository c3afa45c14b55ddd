import type { Clock } from '../clock.js';

export interface RefusalLogOptions {
  clock: Clock;
  /** Refusals audited one by one per client address and window. */
  perWindow: number;
  windowMs: number;
  /** Addresses remembered at once; the oldest window is forgotten first. */
  maxAddresses: number;
}

/**
 * Which refused requests (401, 403) to audit: each one, up to `perWindow` per client address in a
 * fixed window; then one entry saying the rest of that window goes unrecorded. Every refusal is
 * worth a row until someone sends them by the thousand: then the audit log would grow at their
 * pace, so a flood costs one row per window instead. Time comes from the injected clock.
 */
export function createRefusalLog(options: RefusalLogOptions) {
  const { clock, perWindow, windowMs, maxAddresses } = options;
  const windows = new Map<string, { start: number; seen: number }>();
  return {
    /** `record` this refusal, `summarize` it (the first one past the limit), or `skip` it. */
    decide(address: string): 'record' | 'summarize' | 'skip' {
      const now = clock.now();
      let window = windows.get(address);
      if (window === undefined || now - window.start >= windowMs) {
        windows.delete(address);
        if (windows.size >= maxAddresses) {
          const oldest = windows.keys().next();
          if (!oldest.done) windows.delete(oldest.value);
        }
        window = { start: now, seen: 0 };
        windows.set(address, window);
      }
      window.seen++;
      if (window.seen <= perWindow) return 'record';
      return window.seen === perWindow + 1 ? 'summarize' : 'skip';
    },
  };
}
