/**
 * The CA's Prometheus metrics (`GET /metrics`, text exposition format 0.0.4): requests by route,
 * method and status with a latency histogram; authority outcomes (issuances, renewals, rekeys,
 * revocations and their refusals) by provisioner and error code, with a latency histogram; and the
 * expiry of the CA's own certificates, so an alert can fire long before the root, the
 * intermediate or the server certificate runs out. Labels only take bounded values: route
 * patterns, configured provisioner names, catalogue codes.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Clock } from '../core/clock.js';
import type { RequestRecord, Route } from './http.js';

/** What the authority reports after each decision. */
export interface AuthorityOutcome {
  readonly operation: 'sign' | 'renew' | 'rekey' | 'revoke' | 'ssh-sign' | 'ssh-renew' | 'jwt-svid' | 'x509-svid';
  readonly outcome: 'success' | 'failure';
  /** The provisioner, once it is known from configuration or the inventory (never from an unverified token). */
  readonly provisioner?: string;
  /** The refusal's catalogue code. */
  readonly code?: string;
  readonly seconds: number;
}

/** The instruments of one running CA. */
export interface CaMetrics {
  readonly registry: Registry;
  /** Records a finished HTTP request. */
  request(record: RequestRecord): void;
  /** Records an authority decision. */
  outcome(o: AuthorityOutcome): void;
  /** Tracks one of the CA's own certificates (`root`, `intermediate`, `server`). */
  certificate(name: string, notAfter: Date): void;
}

/** Latency buckets in seconds: issuance takes about a millisecond, a busy server tens of them. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** A registry with the CA's instruments and the Node.js process metrics. */
export function createCaMetrics(clock: Clock): CaMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'signet_' });
  const requests = new Counter({ name: 'signet_http_requests_total', help: 'HTTP requests by route pattern, method and status.', labelNames: ['route', 'method', 'status'], registers: [registry] });
  const requestSeconds = new Histogram({ name: 'signet_http_request_duration_seconds', help: 'HTTP request latency by route pattern.', labelNames: ['route', 'method'], buckets: BUCKETS, registers: [registry] });
  const outcomes = new Counter({
    name: 'signet_authority_requests_total',
    help: 'Authority decisions (sign, renew, rekey, revoke) by provisioner, outcome and error code.',
    labelNames: ['operation', 'provisioner', 'outcome', 'code'],
    registers: [registry],
  });
  const outcomeSeconds = new Histogram({ name: 'signet_authority_duration_seconds', help: 'Authority decision latency (verify, build, lint, sign, record).', labelNames: ['operation', 'outcome'], buckets: BUCKETS, registers: [registry] });
  const notAfter = new Map<string, Date>();
  new Gauge({
    name: 'signet_ca_certificate_not_after_seconds',
    help: "The CA's own certificates: notAfter as a Unix time.",
    labelNames: ['certificate'],
    registers: [registry],
    collect() {
      for (const [name, t] of notAfter) this.set({ certificate: name }, Math.floor(t.getTime() / 1000));
    },
  });
  new Gauge({
    name: 'signet_ca_certificate_expires_in_seconds',
    help: "The CA's own certificates: seconds until they expire (negative once expired).",
    labelNames: ['certificate'],
    registers: [registry],
    collect() {
      const now = clock.now().getTime();
      for (const [name, t] of notAfter) this.set({ certificate: name }, Math.floor((t.getTime() - now) / 1000));
    },
  });
  return {
    registry,
    request: (r) => {
      requests.inc({ route: r.route, method: r.method, status: String(r.status) });
      requestSeconds.observe({ route: r.route, method: r.method }, r.ms / 1000);
    },
    outcome: (o) => {
      outcomes.inc({ operation: o.operation, provisioner: o.provisioner ?? '', outcome: o.outcome, code: o.code ?? '' });
      outcomeSeconds.observe({ operation: o.operation, outcome: o.outcome }, o.seconds);
    },
    certificate: (name, t) => void notAfter.set(name, t),
  };
}

/** `GET /metrics` in the Prometheus text format. */
export function metricsRoute(metrics: CaMetrics): Route {
  return {
    method: 'GET',
    path: '/metrics',
    handler: async () => ({ body: await metrics.registry.metrics(), contentType: metrics.registry.contentType }),
  };
}
