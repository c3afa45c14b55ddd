import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Platform } from '../platform/platform.js';

/** Prometheus metrics: states counted from the database at each scrape, timings as they happen. */
export function createMetrics(platform: Platform) {
  const registry = new Registry();
  new Gauge({
    name: 'switchboard_callbacks',
    help: 'Scheduled callbacks by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const callbacks = await platform.read.callbackCounts();
      this.reset();
      for (const [state, n] of Object.entries(callbacks)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'switchboard_contacts',
    help: 'Contacts by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const contacts = await platform.read.contactCounts();
      this.reset();
      for (const [state, n] of Object.entries(contacts)) this.set({ state }, n);
    },
  });
  const lateness = new Histogram({
    name: 'switchboard_dispatch_lateness_seconds',
    help: 'How long after its due time a callback was dispatched',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [registry],
  });
  const requests = new Histogram({
    name: 'switchboard_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const dispatched = new Counter({
    name: 'switchboard_callbacks_dispatched_total',
    help: 'Callbacks dispatched by this process',
    registers: [registry],
  });
  return {
    registry,
    observeDispatch(lateMs: number) {
      dispatched.inc();
      lateness.observe(Math.max(0, lateMs) / 1000);
    },
    observeRequest(method: string, route: string, status: number, seconds: number) {
      requests.observe({ method, route, status: String(status) }, seconds);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
