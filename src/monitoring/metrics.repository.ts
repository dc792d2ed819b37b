import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { InstanceMinute, ServiceMinute } from './rollup.ts';

// Well under PostgreSQL's 65,535 parameters per statement (14 columns a row).
const CHUNK = 1000;

/** Writes one finished minute (or part of one) in as few statements as the row count allows. */
export async function insertMinutes(
  db: Executor,
  services: ServiceMinute[],
  instances: InstanceMinute[],
): Promise<void> {
  for (let i = 0; i < services.length; i += CHUNK) {
    await db
      .insertInto('service_minutes')
      .values(
        services.slice(i, i + CHUNK).map((m) => ({
          service_id: m.serviceId,
          minute: new Date(m.minute),
          probes_total: m.probesTotal,
          probes_failed: m.probesFailed,
          probe_ms_sum: m.probeMsSum,
          req_1xx: m.classes[0] ?? 0,
          req_2xx: m.classes[1] ?? 0,
          req_3xx: m.classes[2] ?? 0,
          req_4xx: m.classes[3] ?? 0,
          req_5xx: m.classes[4] ?? 0,
          latency_buckets: m.buckets,
          latency_ms_sum: m.latencyMsSum,
          instances_total: m.instancesTotal,
          instances_healthy: m.instancesHealthy,
        })),
      )
      .execute();
  }
  for (let i = 0; i < instances.length; i += CHUNK) {
    await db
      .insertInto('instance_minutes')
      .values(
        instances.slice(i, i + CHUNK).map((m) => ({
          service_id: m.serviceId,
          instance_id: m.instanceId,
          minute: new Date(m.minute),
          cpu_seconds: m.cpuSeconds,
          memory_max_bytes: m.memoryMaxBytes,
          memory_limit_bytes: m.memoryLimitBytes,
          restarts: m.restarts,
          state: m.state,
        })),
      )
      .execute();
  }
}

/** Deletes roll-ups older than `before`; returns how many minutes of services went. */
export async function deleteMinutesBefore(db: Executor, before: Date): Promise<number> {
  const r = await db.deleteFrom('service_minutes').where('minute', '<', before).executeTakeFirst();
  await db.deleteFrom('instance_minutes').where('minute', '<', before).execute();
  return Number(r.numDeletedRows);
}

/** One step of a service's series: the sums of its minutes. `step` is the step's index. */
export interface ServiceStepRow {
  step: number;
  probesTotal: number;
  probesFailed: number;
  probeMsSum: number;
  classes: number[];
  buckets: number[];
  latencyMsSum: number;
  minutes: number;
}

export interface InstanceStepRow {
  instanceId: string;
  step: number;
  cpuSeconds: number;
  memoryMaxBytes: number | null;
  memoryLimitBytes: number;
  restarts: number;
  state: string;
  /** Minutes with a sample in this step (CPU share = cpuSeconds / (minutes × 60)). */
  minutes: number;
}

/**
 * A service's minutes in [from, to), added up per step of `stepSec` seconds counted from `from`.
 * Histograms are added bucket by bucket in SQL, so percentiles of a step are exact merges.
 */
export async function serviceSteps(
  db: Executor,
  serviceId: string,
  from: Date,
  to: Date,
  stepSec: number,
): Promise<ServiceStepRow[]> {
  const step = sql`floor(extract(epoch from (minute - ${from.toISOString()}::timestamptz)) / ${stepSec}::int)::int`;
  const rows = await sql<{
    step: number;
    probes_total: number;
    probes_failed: number;
    probe_ms_sum: number;
    r1: number;
    r2: number;
    r3: number;
    r4: number;
    r5: number;
    latency_ms_sum: number;
    minutes: number;
  }>`
    select ${step} as step,
      sum(probes_total)::float8 as probes_total, sum(probes_failed)::float8 as probes_failed,
      sum(probe_ms_sum)::float8 as probe_ms_sum,
      sum(req_1xx)::float8 as r1, sum(req_2xx)::float8 as r2, sum(req_3xx)::float8 as r3,
      sum(req_4xx)::float8 as r4, sum(req_5xx)::float8 as r5,
      sum(latency_ms_sum)::float8 as latency_ms_sum, count(distinct minute)::int as minutes
    from service_minutes
    where service_id = ${serviceId} and minute >= ${from.toISOString()}::timestamptz
      and minute < ${to.toISOString()}::timestamptz
    group by 1 order by 1`.execute(db);
  const buckets = await sql<{ step: number; i: number; n: number }>`
    select ${sql`floor(extract(epoch from (m.minute - ${from.toISOString()}::timestamptz)) / ${stepSec}::int)::int`} as step,
      u.i::int as i, sum(u.n)::float8 as n
    from service_minutes m cross join lateral unnest(m.latency_buckets) with ordinality as u(n, i)
    where m.service_id = ${serviceId} and m.minute >= ${from.toISOString()}::timestamptz
      and m.minute < ${to.toISOString()}::timestamptz
    group by 1, 2`.execute(db);
  const byStep = new Map<number, ServiceStepRow>();
  for (const r of rows.rows) {
    byStep.set(Number(r.step), {
      step: Number(r.step),
      probesTotal: Number(r.probes_total),
      probesFailed: Number(r.probes_failed),
      probeMsSum: Number(r.probe_ms_sum),
      classes: [r.r1, r.r2, r.r3, r.r4, r.r5].map(Number),
      buckets: [],
      latencyMsSum: Number(r.latency_ms_sum),
      minutes: Number(r.minutes),
    });
  }
  for (const b of buckets.rows) {
    const s = byStep.get(Number(b.step));
    if (s) s.buckets[Number(b.i) - 1] = Number(b.n);
  }
  return [...byStep.values()];
}

export async function instanceSteps(
  db: Executor,
  serviceId: string,
  from: Date,
  to: Date,
  stepSec: number,
): Promise<InstanceStepRow[]> {
  const rows = await sql<{
    instance_id: string;
    step: number;
    cpu_seconds: number;
    memory_max_bytes: number | null;
    memory_limit_bytes: number;
    restarts: number;
    state: string;
    minutes: number;
  }>`
    select instance_id,
      floor(extract(epoch from (minute - ${from.toISOString()}::timestamptz)) / ${stepSec}::int)::int as step,
      sum(cpu_seconds)::float8 as cpu_seconds, max(memory_max_bytes)::float8 as memory_max_bytes,
      max(memory_limit_bytes)::float8 as memory_limit_bytes, sum(restarts)::int as restarts,
      (array_agg(state order by minute desc))[1] as state, count(distinct minute)::int as minutes
    from instance_minutes
    where service_id = ${serviceId} and minute >= ${from.toISOString()}::timestamptz
      and minute < ${to.toISOString()}::timestamptz
    group by 1, 2 order by 1, 2`.execute(db);
  return rows.rows.map((r) => ({
    instanceId: r.instance_id,
    step: Number(r.step),
    cpuSeconds: Number(r.cpu_seconds),
    memoryMaxBytes: r.memory_max_bytes === null ? null : Number(r.memory_max_bytes),
    memoryLimitBytes: Number(r.memory_limit_bytes),
    restarts: Number(r.restarts),
    state: r.state,
    minutes: Number(r.minutes),
  }));
}

/**
 * Measured use of each service in [from, to): CPU as the average share of one CPU, summed over
 * its instances; memory as the peak of its instances' memory added up, in bytes. Added up minute
 * by minute first, so instances replaced by a deploy during the window are not counted twice.
 * Services with no minutes in the window are absent from the map.
 */
export async function usageByServiceBetween(
  db: Executor,
  serviceIds: string[],
  from: Date,
  to: Date,
): Promise<Map<string, { cpu: number; memoryBytes: number }>> {
  const out = new Map<string, { cpu: number; memoryBytes: number }>();
  if (serviceIds.length === 0) return out;
  const perMinute = db
    .selectFrom('instance_minutes')
    .select([
      'service_id',
      'minute',
      sql<number>`sum(cpu_seconds)`.as('cpu_seconds'),
      sql<number>`sum(coalesce(memory_max_bytes, 0))`.as('memory'),
    ])
    .where('service_id', 'in', serviceIds)
    .where('minute', '>=', from)
    .where('minute', '<', to)
    .groupBy(['service_id', 'minute']);
  const rows = await db
    .selectFrom(perMinute.as('m'))
    .select([
      'service_id',
      sql<number>`sum(cpu_seconds)::float8 / (count(*) * 60)`.as('cpu'),
      sql<number>`max(memory)::float8`.as('memory_bytes'),
    ])
    .groupBy('service_id')
    .execute();
  for (const r of rows) out.set(r.service_id, { cpu: Number(r.cpu), memoryBytes: Number(r.memory_bytes) });
  return out;
}

/** What a service measurably used: for capacity's "used" figures and overcommit advice. */
export interface ServiceUsage {
  /** CPUs in use, all instances together, averaged over the minutes measured. */
  cpuAvg: number;
  /** The 95th percentile of that, minute by minute. */
  cpuP95: number;
  /** Memory of all instances together (each instance's per-minute peak), at its highest minute. */
  memoryMaxMb: number;
  memoryP95Mb: number;
  /** Minutes with a measurement. */
  minutes: number;
}

/**
 * Measured use of each of `serviceIds` since `since`, from the per-instance minutes: the
 * instances' CPU seconds and memory peaks are summed per minute, then averaged or ranked.
 * Services with no measurement are absent from the map.
 */
export async function recentUsageByService(
  db: Executor,
  serviceIds: string[],
  since: Date,
): Promise<Map<string, ServiceUsage>> {
  const out = new Map<string, ServiceUsage>();
  if (serviceIds.length === 0) return out;
  for (let i = 0; i < serviceIds.length; i += CHUNK) {
    const ids = serviceIds.slice(i, i + CHUNK);
    const rows = await sql<{
      service_id: string;
      cpu_avg: number;
      cpu_p95: number;
      mem_max: number | null;
      mem_p95: number | null;
      minutes: number;
    }>`
      with per_minute as (
        select service_id, minute, sum(cpu_seconds) / 60.0 as cpu, sum(memory_max_bytes) as mem
        from instance_minutes
        where service_id in (${sql.join(ids)}) and minute >= ${since.toISOString()}::timestamptz
        group by service_id, minute
      )
      select service_id, avg(cpu)::float8 as cpu_avg,
        percentile_cont(0.95) within group (order by cpu)::float8 as cpu_p95,
        max(mem)::float8 as mem_max,
        percentile_cont(0.95) within group (order by mem)::float8 as mem_p95,
        count(*)::int as minutes
      from per_minute group by service_id`.execute(db);
    for (const r of rows.rows) {
      out.set(r.service_id, {
        cpuAvg: Number(r.cpu_avg),
        cpuP95: Number(r.cpu_p95),
        memoryMaxMb: Number(r.mem_max ?? 0) / 1024 / 1024,
        memoryP95Mb: Number(r.mem_p95 ?? 0) / 1024 / 1024,
        minutes: Number(r.minutes),
      });
    }
  }
  return out;
}

/**
 * Requests answered (every status class) by service and UTC day in [from, to): what finance's
 * chargeback meters. Days, not minutes: rates change only at the start of a day.
 */
export async function requestsByDay(
  db: Executor,
  serviceIds: string[],
  from: Date,
  to: Date,
): Promise<{ serviceId: string; day: string; count: number }[]> {
  if (serviceIds.length === 0) return [];
  const rows = await db
    .selectFrom('service_minutes')
    .select((eb) => [
      'service_id',
      sql<string>`to_char(minute at time zone 'UTC', 'YYYY-MM-DD')`.as('day'),
      eb.fn.sum<string | number>(sql`req_1xx + req_2xx + req_3xx + req_4xx + req_5xx`).as('count'),
    ])
    .where('service_id', 'in', serviceIds)
    .where('minute', '>=', from)
    .where('minute', '<', to)
    .groupBy(['service_id', sql`to_char(minute at time zone 'UTC', 'YYYY-MM-DD')`])
    .execute();
  return rows.map((r) => ({ serviceId: r.service_id, day: r.day, count: Number(r.count) }));
}
