/**
 * The Prometheus text exposition format 0.0.4 of what the engine knows: request counters and
 * latency histograms (the engine's own totals, so they stay monotonic when the router restarts),
 * probe results, and instance CPU, memory and restarts.
 */
import type { ServiceExposition } from './engine.ts';
import { BUCKETS_MS } from './histogram.ts';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Label values may hold any text: backslash, double quote and newline are escaped. */
export const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

function num(n: number): string {
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  if (Number.isNaN(n)) return 'NaN';
  return String(n);
}

function labels(pairs: [string, string][]): string {
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

export function renderPrometheus(services: ServiceExposition[]): string {
  const out: string[] = [];
  const family = (name: string, type: string, help: string, lines: string[]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
  };
  const base = (s: ServiceExposition): [string, string][] => {
    const [department = '', ...rest] = s.key.split('/');
    return [
      ['department', department],
      ['service', rest.join('/')],
    ];
  };

  const requests: string[] = [];
  const hist: string[] = [];
  const up: string[] = [];
  const probeSec: string[] = [];
  const cpu: string[] = [];
  const mem: string[] = [];
  const limit: string[] = [];
  const restarts: string[] = [];
  for (const s of services) {
    const b = base(s);
    const t = s.totals;
    CLASSES.forEach((c, i) => {
      requests.push(`govhost_http_requests_total${labels([...b, ['class', c]])} ${num(t?.classes[i] ?? 0)}`);
    });
    let cumulative = 0;
    BUCKETS_MS.forEach((ms, i) => {
      cumulative += t?.buckets[i] ?? 0;
      hist.push(
        `govhost_http_request_duration_seconds_bucket${labels([...b, ['le', num(ms / 1000)]])} ${num(cumulative)}`,
      );
    });
    hist.push(`govhost_http_request_duration_seconds_sum${labels(b)} ${num((t?.sumMs ?? 0) / 1000)}`);
    hist.push(`govhost_http_request_duration_seconds_count${labels(b)} ${num(cumulative)}`);
    if (s.state !== 'unknown') up.push(`govhost_probe_up${labels(b)} ${s.state === 'up' ? 1 : 0}`);
    if (s.lastProbe)
      probeSec.push(`govhost_probe_duration_seconds${labels(b)} ${num(s.lastProbe.ms / 1000)}`);
    for (const i of s.instances) {
      const il = labels([...b, ['service_instance', i.instanceId]]);
      cpu.push(`govhost_instance_cpu_seconds_total${il} ${num(Math.round(i.cpuSecondsTotal * 1000) / 1000)}`);
      if (i.memoryBytes !== null) mem.push(`govhost_instance_memory_bytes${il} ${num(i.memoryBytes)}`);
      limit.push(`govhost_instance_memory_limit_bytes${il} ${num(i.memoryLimitBytes)}`);
      restarts.push(`govhost_instance_restarts_total${il} ${num(i.restarts)}`);
    }
  }
  family('govhost_http_requests_total', 'counter', 'Requests through the router, by status class.', requests);
  family(
    'govhost_http_request_duration_seconds',
    'histogram',
    'Time the router took to answer a request, first byte in to last byte out.',
    hist,
  );
  family(
    'govhost_probe_up',
    'gauge',
    'Whether the service answers probes through the router (1 up, 0 down).',
    up,
  );
  family(
    'govhost_probe_duration_seconds',
    'gauge',
    'Duration of the last probe through the router.',
    probeSec,
  );
  family('govhost_instance_cpu_seconds_total', 'counter', 'CPU time used by the instance processes.', cpu);
  family('govhost_instance_memory_bytes', 'gauge', 'Resident memory of the instance processes.', mem);
  family('govhost_instance_memory_limit_bytes', 'gauge', 'Memory the instance is given.', limit);
  family('govhost_instance_restarts_total', 'counter', 'Times the runtime restarted the instance.', restarts);
  return `${out.join('\n')}\n`;
}
