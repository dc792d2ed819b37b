import type { CostModel } from './cost-model.ts';

/**
 * The Finance Committee paper's figures (OGCIO, April 2011), kept here so that a clone of GovHost
 * has them: the paper itself is not part of the project. Amounts are HK$ thousands, as printed;
 * the bracketed numbers are the paper's paragraphs. Years are financial years, April to March.
 */

export const PAPER_YEARS = [
  '2011-12',
  '2012-13',
  '2013-14',
  '2014-15',
  '2015-16',
  '2016-17',
  '2017-18',
  '2018-19',
  '2019-20',
] as const;

const zeros = (n: number) => Array.from({ length: n }, () => 0);
/** The first four years as given, nothing after: the development and expansion phases [8, 26]. */
const build = (four: number[]) => [...four, ...zeros(5)];
/** Nothing in 2011-12, then each year's figure, the last repeated "2015-16 and each year after" [21]. */
const steady = (from2012: number[]) => [
  0,
  ...from2012,
  ...zeros(8 - from2012.length).map(() => from2012.at(-1) ?? 0),
];

/** The paper's cost model: every line of paragraphs 12-25 that the annex adds up. */
export const PAPER_MODEL: CostModel = {
  years: [...PAPER_YEARS],
  nonRecurring: {
    /** [15(a), 16] servers, network equipment and software, backup devices. */
    hardwareSoftware: build([21_800, 30_300, 15_600, 6_500]),
    /** [15(b), 17] service providers and contract IT staff who develop and set up the platform. */
    systemDevelopment: build([4_600, 6_900, 7_000, 7_000]),
    /** [15(c), 18] implementing shared services (e.g. payment) and advising bureaux/departments. */
    implementation: build([5_400, 8_200, 4_700, 4_700]),
    /**
     * [15(d), 19] "about 10%" of (a) to (c): as printed, since the paper's own rounding (3,180 to
     * 3,200 but 4,540 to 4,600) follows no one rule. A copied scenario may give a rate instead.
     */
    contingency: { amounts: build([3_200, 4_600, 2_700, 1_800]) },
    /** [20] 252 man-months of IT staff, met from existing resources; by year as in the annex. */
    staff: build([5_000, 6_200, 6_200, 6_200]),
  },
  recurring: {
    /** [21(a), 22] hardware and software maintenance, e.g. server maintenance and licences. */
    maintenance: steady([4_300, 10_300, 13_300, 14_600]),
    /** [21(b), 23] day-to-day operation, support and maintenance services, from 2015-16. */
    support: steady([0, 0, 0, 15_400]),
    /** [25] 66 man-months a year of IT staff from 2012-13, met from existing resources. */
    staff: steady([6_100]),
  },
  savings: {
    /**
     * Annex, note *: the most other bureaux/departments could avoid spending once on hardware and
     * software, HK$260M over the four build years [13].
     */
    oneOffAvoidable: build([65_000, 65_000, 65_000, 65_000]),
    /** [12] realisable savings as services leave the old platform (annex note #). */
    recurringRealisable: steady([10_400, 14_600, 18_900, 36_100]),
  },
};

/** Paragraph 13: up to 78 farms a department would otherwise buy, at about HK$3.3M each. */
export const PAPER_SHARING = { farmsAvoided: 78, farmCostHkd: 3_300_000, savingsHkd: 260_000_000 } as const;
