import { STATUS_CODES } from 'node:http';

/** RFC 9457 problem details. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code?: string;
  correlationId?: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problem(status: number, detail: string, extra: Partial<Problem> = {}): Problem {
  const slug = extra.code !== undefined ? extra.code.toLowerCase().replace(/_/g, '-') : String(status);
  return {
    type: `https://quorumgate.dev/problems/${slug}`,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    ...extra,
  };
}
