import { listFarms } from '../capacity/farm.logic.ts';
import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import type { Caller, Principal } from '../tenancy/principal.ts';
import { setRates } from './chargeback.logic.ts';
import type { BusinessCase } from './cost-model.ts';
import type { Rate } from './rate.repository.ts';
import { authorizeCentral, scenarioBusinessCase } from './scenario.logic.ts';

/**
 * Rates derived from the cost model: a financial year's recurring cost recovered from the
 * capacity the platform can sell at a target utilisation. The recurring subtotal (maintenance,
 * support services, staff: what running the platform costs every year) is split between memory
 * and CPU, the two resources a farm is sized and filled by, `memoryShare` to memory; each part is
 * divided by the hours of the year × that resource's reservable capacity (capacity × overcommit
 * of the active farms) × the utilisation. Disk and requests are left to finance: the paper costs
 * neither apart. Finance adopts a proposal as new rates from a day on, like any other rate.
 */

export interface RateProposal {
  scenario: string;
  year: string;
  recurringCostCents: number;
  hours: number;
  capacity: { cpu: number; memoryGb: number };
  utilisation: number;
  memoryShare: number;
  /** Cents per GB-hour and per CPU-hour, to 6 decimals (the card's precision). */
  rates: { resource: 'memory-gb-hour' | 'cpu-hour'; centsPerUnit: number; recoversCents: number }[];
}

const invalid = (detail: string) => new DomainError('GOVHOST_FINANCE_INVALID', detail);
const sixDecimals = (v: number) => Math.round(v * 1e6) / 1e6;

/** Hours of a financial year (`2015-16`: 1 April 2015 to 1 April 2016, a leap day included). */
export function hoursOfYear(year: string): number {
  const first = Number(year.slice(0, 4));
  return (Date.UTC(first + 1, 3, 1) - Date.UTC(first, 3, 1)) / 3_600_000;
}

/** The proposal for one year of a business case, on the capacity given. */
export function proposeRates(
  bc: Pick<BusinessCase, 'years' | 'annex'>,
  input: {
    scenario: string;
    year: string;
    capacity: { cpu: number; memoryGb: number };
    utilisation: number;
    memoryShare: number;
  },
): RateProposal {
  const i = bc.years.indexOf(input.year);
  if (i < 0) throw invalid(`${input.year} is not a year of ${input.scenario} (${bc.years.join(', ')})`);
  if (!(input.utilisation > 0 && input.utilisation <= 1))
    throw invalid('utilisation must be above 0 and at most 1');
  if (!(input.memoryShare >= 0 && input.memoryShare <= 1)) throw invalid('memoryShare must be from 0 to 1');
  if (input.capacity.cpu <= 0 || input.capacity.memoryGb <= 0)
    throw invalid('no active farm: the capacity to recover the cost from is nil');
  const recurring = bc.annex.find((r) => r.key === 'recurring.subtotal')?.byYear[i] ?? 0;
  const recurringCostCents = recurring * 1000 * 100; // HK$ thousands to cents
  const hours = hoursOfYear(input.year);
  const part = (share: number, units: number) =>
    (recurringCostCents * share) / (units * hours * input.utilisation);
  const memory = sixDecimals(part(input.memoryShare, input.capacity.memoryGb));
  const cpu = sixDecimals(part(1 - input.memoryShare, input.capacity.cpu));
  const recovers = (rate: number, units: number) => Math.round(rate * units * hours * input.utilisation);
  return {
    scenario: input.scenario,
    year: input.year,
    recurringCostCents,
    hours,
    capacity: input.capacity,
    utilisation: input.utilisation,
    memoryShare: input.memoryShare,
    rates: [
      {
        resource: 'memory-gb-hour',
        centsPerUnit: memory,
        recoversCents: recovers(memory, input.capacity.memoryGb),
      },
      { resource: 'cpu-hour', centsPerUnit: cpu, recoversCents: recovers(cpu, input.capacity.cpu) },
    ],
  };
}

/** The proposal on the platform's active farms (the central team's, like business cases). */
export async function rateProposal(
  db: Db,
  caller: Principal,
  q: { scenario?: string; year: string; utilisation?: number; memoryShare?: number },
): Promise<RateProposal> {
  const name = q.scenario ?? 'paper';
  const bc = await scenarioBusinessCase(db, caller, name);
  const farms = await listFarms(db, caller, 'active');
  const capacity = {
    cpu: farms.reduce((s, f) => s + f.reservable.cpu, 0),
    memoryGb: farms.reduce((s, f) => s + f.reservable.memoryMb, 0) / 1024,
  };
  return proposeRates(bc, {
    scenario: name,
    year: q.year,
    capacity,
    utilisation: q.utilisation ?? 0.8,
    memoryShare: q.memoryShare ?? 0.5,
  });
}

/**
 * Adopts a proposal as rates from a day on: computed again here (on the farms of now, not of
 * when someone looked), both rates added in one step with a note naming the basis, or neither.
 */
export async function adoptRateProposal(
  db: Db,
  caller: Caller,
  q: { scenario?: string; year: string; utilisation?: number; memoryShare?: number; validFrom: string },
  now = new Date(),
): Promise<{ proposal: RateProposal; rates: Rate[] }> {
  authorizeCentral(caller, 'finance:write');
  const proposal = await rateProposal(db, caller, q);
  const note = `cost recovery: ${proposal.scenario} ${proposal.year} at ${proposal.utilisation * 100} % utilisation, ${proposal.memoryShare * 100} % on memory`;
  const rates = await setRates(
    db,
    caller,
    proposal.rates.map((r) => ({
      resource: r.resource,
      validFrom: q.validFrom,
      centsPerUnit: r.centsPerUnit,
      note,
    })),
    now,
  );
  return { proposal, rates };
}
