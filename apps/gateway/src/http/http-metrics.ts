import type { NextFunction, Request, Response } from 'express';
import { Counter, Histogram, type Registry } from 'prom-client';

/** Counts and times every HTTP request by method, matched route and status. */
export function httpMetrics(registry: Registry) {
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({ name: 'qg_http_requests_total', help: 'HTTP requests handled', labelNames, registers: [registry] });
  const duration = new Histogram({
    name: 'qg_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30],
    registers: [registry],
  });
  return (req: Request, res: Response, next: NextFunction): void => {
    const end = duration.startTimer();
    res.on('finish', () => {
      // The route pattern, never the raw path: ids in paths would explode label cardinality.
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      const labels = { method: req.method, route: req.baseUrl + route, status: String(res.statusCode) };
      requests.inc(labels);
      end(labels);
    });
    next();
  };
}
