import { requireMembers } from './checks.js';
import { ExecutorError } from './executor-error.js';

export interface KubernetesConfig {
  context?: string;
}

export interface KubernetesParams {
  namespace: string;
  pod: string;
  container: string | undefined;
  command: string[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_ARGS = 256;
const MAX_ARG_CHARS = 4096;
const MAX_COMMAND_CHARS = 16 * 1024;

function invalid(message: string): ExecutorError {
  return new ExecutorError('PARAMS_INVALID', message);
}

/**
 * Checks `kubernetes.exec` config. Enforces: only `context`, a name of 1 to
 * 253 characters when present (absent: the kubeconfig's `current-context`).
 */
export function validateKubernetesConfig(config: unknown): KubernetesConfig {
  const c = requireMembers(config ?? undefined, ['context'], 'CONFIG_INVALID', 'kubernetes.exec config', true);
  if (c.context === undefined) return {};
  if (typeof c.context !== 'string' || c.context.length === 0 || c.context.length > 253 || /[\x00-\x1f\x7f]/.test(c.context)) {
    throw new ExecutorError('CONFIG_INVALID', 'config.context must be a context name of 1 to 253 characters');
  }
  return { context: c.context };
}

/**
 * Checks `kubernetes.exec` params. Enforces:
 * - only `namespace`, `pod`, `container`, `command`;
 * - `namespace` and `container` are DNS-1123 labels, `pod` a DNS-1123
 *   subdomain (what the API server accepts, so nothing can step out of the
 *   URL path);
 * - `command` is an argument vector, not a shell line: 1 to 256 strings, the
 *   first non-empty, each at most 4096 characters and without NUL, 16 KiB in all.
 *
 * @example
 * parseKubernetesParams({ namespace: 'prod-eu', pod: 'api-0', command: ['cat', '/etc/hostname'] });
 */
export function parseKubernetesParams(params: unknown): KubernetesParams {
  const p = requireMembers(params, ['namespace', 'pod', 'container', 'command'], 'PARAMS_INVALID', 'params');
  if (typeof p.namespace !== 'string' || !DNS_LABEL.test(p.namespace)) {
    throw invalid('params.namespace must be a DNS-1123 label (a-z, 0-9 and "-", at most 63 characters)');
  }
  if (typeof p.pod !== 'string' || p.pod.length > 253 || !DNS_SUBDOMAIN.test(p.pod)) {
    throw invalid('params.pod must be a DNS-1123 subdomain (a-z, 0-9, "-" and ".", at most 253 characters)');
  }
  if (p.container !== undefined && (typeof p.container !== 'string' || !DNS_LABEL.test(p.container))) {
    throw invalid('params.container must be a DNS-1123 label (a-z, 0-9 and "-", at most 63 characters)');
  }
  const command = p.command;
  if (!Array.isArray(command) || command.length === 0 || command.length > MAX_ARGS) {
    throw invalid(`params.command must be an array of 1 to ${MAX_ARGS} strings (an argument vector, not a shell line)`);
  }
  let total = 0;
  for (const [i, arg] of command.entries()) {
    if (typeof arg !== 'string' || arg.length > MAX_ARG_CHARS || arg.includes('\u0000')) {
      throw invalid(`params.command[${i}] must be a string of at most ${MAX_ARG_CHARS} characters without NUL`);
    }
    total += arg.length;
  }
  if ((command[0] as string).length === 0) throw invalid('params.command[0] must not be empty');
  if (total > MAX_COMMAND_CHARS) throw invalid('params.command must be at most 16 KiB in all');
  return { namespace: p.namespace, pod: p.pod, container: p.container as string | undefined, command: command as string[] };
}
