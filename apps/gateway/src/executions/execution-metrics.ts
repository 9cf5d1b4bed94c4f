import { Counter, Histogram, type Registry } from 'prom-client';

/** What operators of the gateway watch: executions by kind and outcome, and how long they take. */
export function executionMetrics(registry: Registry) {
  return {
    finished: new Counter({
      name: 'qg_executions_total',
      help: 'Executions finished by this replica, by operation kind and outcome',
      labelNames: ['kind', 'status'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'qg_execution_duration_seconds',
      help: 'From the claim (approved → executing) to the final state, by operation kind',
      labelNames: ['kind'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    sharesRejected: new Counter({
      name: 'qg_shares_rejected_total',
      help: 'Shares that failed their commitment check or did not open at execution',
      registers: [registry],
    }),
  };
}
