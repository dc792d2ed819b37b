import type { Executor } from '../platform/database.ts';

/** A service's reservations over a span (`to` null: still held), as chargeback prices them. */
export interface ReservationInterval {
  serviceId: string;
  departmentId: string;
  instances: number;
  memoryMb: number;
  cpu: number;
  storageMb: number;
  from: Date;
  to: Date | null;
}

/** The reservation intervals of one department that overlap [from, to). */
export async function reservationIntervals(
  db: Executor,
  departmentId: string,
  from: Date,
  to: Date,
): Promise<ReservationInterval[]> {
  const rows = await db
    .selectFrom('reservation_intervals')
    .selectAll()
    .where('department_id', '=', departmentId)
    .where('valid_from', '<', to)
    .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', from)]))
    .orderBy('valid_from')
    .execute();
  return rows.map((r) => ({
    serviceId: r.service_id,
    departmentId: r.department_id,
    instances: Number(r.instances),
    memoryMb: Number(r.memory_mb),
    cpu: Number(r.cpu),
    storageMb: Number(r.storage_mb),
    from: r.valid_from,
    to: r.valid_to,
  }));
}

/** Departments that reserved anything in [from, to). */
export async function departmentsReserving(db: Executor, from: Date, to: Date): Promise<string[]> {
  const rows = await db
    .selectFrom('reservation_intervals')
    .select('department_id')
    .distinct()
    .where('valid_from', '<', to)
    .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', from)]))
    .execute();
  return rows.map((r) => r.department_id);
}
