/**
 * The Finance Committee paper's workload (15 April 2011, see MISSION.md), as data GovHost can
 * load: 20 departments, 118 services migrated from EGIS, 100 new ones and 22 server farms.
 *
 * The counts and dates come from the paper; the names do not. The paper names no department's
 * services, so departments carry real-looking codes and names marked "(illustrative)", and each
 * service is an illustrative name drawn from its department's field with a seeded generator:
 * the same workload every time, on every machine.
 */

export const ILLUSTRATIVE =
  'Illustrative workload from the 2011 Finance Committee paper on e-government hosting; not a real service.';

export interface PaperDepartment {
  code: string;
  nameEn: string;
  nameZh: string;
}

export interface PaperService {
  department: string;
  slug: string;
  nameEn: string;
  nameZh: string;
  description: string;
  origin: 'migrated' | 'new';
  egisRef: string | null;
  channels: ('web' | 'mobile')[];
  personalised: boolean;
  slaTier: 'gold' | 'silver' | 'bronze';
  /** Planned go-live on the new platform, YYYY-MM-DD. */
  goLive: string;
  /** Migration wave 1-3 for migrated services; new services: 1 (by Oct 2012) or 2. */
  wave: number;
  /** Expected size, for the demand pipeline (the loader registers services; it deploys nothing). */
  instances: number;
  memoryMb: number;
  /** vCPU per instance. */
  cpu: number;
}

export interface PaperFarm {
  code: string;
  name: string;
  vcpu: number;
  memoryMb: number;
  storageGb: number;
  idleWatts: number;
  maxWatts: number;
  costHkd: number;
  phase: number;
  orderedOn: string;
  activeFrom: string;
}

/** Mulberry32: a small seeded generator, so that the workload is the same on every run. */
export function seeded(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Topic = [en: string, zh: string, slug: string];

/** Departments and the fields their services come from. */
const DEPARTMENTS: (PaperDepartment & { weight: number; topics: Topic[] })[] = [
  {
    code: 'IRD',
    nameEn: 'Inland Revenue Department',
    nameZh: '稅務局',
    weight: 3,
    topics: [
      ['Salaries Tax', '薪俸稅', 'salaries-tax'],
      ['Profits Tax', '利得稅', 'profits-tax'],
      ['Property Tax', '物業稅', 'property-tax'],
      ['Stamp Duty', '印花稅', 'stamp-duty'],
      ['Business Registration', '商業登記', 'business-reg'],
      ['Tax Return', '報稅表', 'tax-return'],
    ],
  },
  {
    code: 'IMMD',
    nameEn: 'Immigration Department',
    nameZh: '入境事務處',
    weight: 3,
    topics: [
      ['Passport', '護照', 'passport'],
      ['Identity Card', '身份證', 'identity-card'],
      ['Visa', '簽證', 'visa'],
      ['Birth Registration', '出生登記', 'birth-reg'],
      ['Marriage Registration', '婚姻登記', 'marriage-reg'],
      ['Travel Document', '旅行證件', 'travel-doc'],
    ],
  },
  {
    code: 'TD',
    nameEn: 'Transport Department',
    nameZh: '運輸署',
    weight: 2,
    topics: [
      ['Driving Licence', '駕駛執照', 'driving-licence'],
      ['Vehicle Licence', '車輛牌照', 'vehicle-licence'],
      ['Driving Test', '駕駛考試', 'driving-test'],
      ['Traffic News', '交通消息', 'traffic-news'],
      ['Personalised Vehicle Registration Mark', '自訂車輛登記號碼', 'vehicle-mark'],
    ],
  },
  {
    code: 'DH',
    nameEn: 'Department of Health',
    nameZh: '衞生署',
    weight: 2,
    topics: [
      ['Clinic', '診所', 'clinic'],
      ['Vaccination', '疫苗接種', 'vaccination'],
      ['Elderly Health Care Voucher', '長者醫療券', 'health-voucher'],
      ['Travel Health', '旅遊健康', 'travel-health'],
      ['Dental Service', '牙科服務', 'dental'],
    ],
  },
  {
    code: 'WFSFAA',
    nameEn: 'Working Family and Student Financial Assistance Agency',
    nameZh: '在職家庭及學生資助事務處',
    weight: 2,
    topics: [
      ['Student Finance', '學生資助', 'student-finance'],
      ['Student Travel Subsidy', '學生車船津貼', 'travel-subsidy'],
      ['Textbook Assistance', '課本資助', 'textbook'],
      ['Non-means-tested Loan', '免入息審查貸款', 'nmt-loan'],
    ],
  },
  {
    code: 'LCSD',
    nameEn: 'Leisure and Cultural Services Department',
    nameZh: '康樂及文化事務署',
    weight: 2,
    topics: [
      ['Leisure Facility', '康體設施', 'leisure'],
      ['Library', '圖書館', 'library'],
      ['Museum', '博物館', 'museum'],
      ['Performance Ticketing', '演出票務', 'ticketing'],
      ['Recreation Programme', '康樂活動', 'programme'],
    ],
  },
  {
    code: 'HKPF',
    nameEn: 'Hong Kong Police Force',
    nameZh: '香港警務處',
    weight: 1,
    topics: [
      ['Certificate of No Criminal Conviction', '良好紀錄證明書', 'good-conduct'],
      ['Lost Property', '失物', 'lost-property'],
      ['Crime Report', '報案', 'crime-report'],
      ['Road Safety', '道路安全', 'road-safety'],
    ],
  },
  {
    code: 'FEHD',
    nameEn: 'Food and Environmental Hygiene Department',
    nameZh: '食物環境衞生署',
    weight: 1,
    topics: [
      ['Food Licence', '食物業牌照', 'food-licence'],
      ['Market Stall', '街市檔位', 'market-stall'],
      ['Cemetery and Crematorium', '墳場及火葬場', 'cemetery'],
      ['Hawker Licence', '小販牌照', 'hawker'],
    ],
  },
  {
    code: 'HD',
    nameEn: 'Housing Department',
    nameZh: '房屋署',
    weight: 2,
    topics: [
      ['Public Rental Housing', '公共租住房屋', 'public-housing'],
      ['Rent Payment', '繳交租金', 'rent'],
      ['Estate Maintenance', '屋邨維修', 'estate-repair'],
      ['Home Ownership Scheme', '居者有其屋', 'home-ownership'],
    ],
  },
  {
    code: 'LD',
    nameEn: 'Labour Department',
    nameZh: '勞工處',
    weight: 1,
    topics: [
      ['Job Vacancy', '職位空缺', 'jobs'],
      ['Employment Programme', '就業計劃', 'employment'],
      ['Occupational Safety', '職業安全', 'safety'],
      ['Labour Relations', '勞資關係', 'labour-relations'],
    ],
  },
  {
    code: 'EDB',
    nameEn: 'Education Bureau',
    nameZh: '教育局',
    weight: 2,
    topics: [
      ['School Places Allocation', '學位分配', 'school-places'],
      ['Kindergarten', '幼稚園', 'kindergarten'],
      ['School Information', '學校資料', 'school-info'],
      ['Teacher Registration', '教師註冊', 'teacher-reg'],
    ],
  },
  {
    code: 'SWD',
    nameEn: 'Social Welfare Department',
    nameZh: '社會福利署',
    weight: 1,
    topics: [
      ['Social Security', '社會保障', 'social-security'],
      ['Elderly Services', '安老服務', 'elderly'],
      ['Volunteer', '義工', 'volunteer'],
      ['Child Care', '幼兒照顧', 'child-care'],
    ],
  },
  {
    code: 'CENSTATD',
    nameEn: 'Census and Statistics Department',
    nameZh: '政府統計處',
    weight: 1,
    topics: [
      ['Statistical Tables', '統計表', 'stat-tables'],
      ['Survey Return', '統計調查', 'survey'],
      ['Trade Declaration', '貿易報關', 'trade-decl'],
    ],
  },
  {
    code: 'LANDSD',
    nameEn: 'Lands Department',
    nameZh: '地政總署',
    weight: 1,
    topics: [
      ['Map', '地圖', 'map'],
      ['Land Sale', '賣地', 'land-sale'],
      ['Short Term Tenancy', '短期租約', 'tenancy'],
    ],
  },
  {
    code: 'EPD',
    nameEn: 'Environmental Protection Department',
    nameZh: '環境保護署',
    weight: 1,
    topics: [
      ['Air Quality', '空氣質素', 'air-quality'],
      ['Waste Disposal', '廢物處置', 'waste'],
      ['Environmental Permit', '環境許可證', 'env-permit'],
      ['Recycling', '回收', 'recycling'],
    ],
  },
  {
    code: 'RVD',
    nameEn: 'Rating and Valuation Department',
    nameZh: '差餉物業估價署',
    weight: 1,
    topics: [
      ['Rates', '差餉', 'rates'],
      ['Property Information', '物業資料', 'property-info'],
      ['Tenancy Notice', '租賃通知', 'tenancy-notice'],
    ],
  },
  {
    code: 'HKO',
    nameEn: 'Hong Kong Observatory',
    nameZh: '香港天文台',
    weight: 1,
    topics: [
      ['Weather Forecast', '天氣預報', 'weather'],
      ['Tropical Cyclone', '熱帶氣旋', 'cyclone'],
      ['Rainfall', '雨量', 'rainfall'],
      ['Earthquake', '地震', 'earthquake'],
    ],
  },
  {
    code: 'TID',
    nameEn: 'Trade and Industry Department',
    nameZh: '工業貿易署',
    weight: 1,
    topics: [
      ['Certificate of Origin', '產地來源證', 'origin-cert'],
      ['Import and Export Licence', '進出口許可證', 'trade-licence'],
      ['SME Funding', '中小企資助', 'sme-funding'],
    ],
  },
  {
    code: 'LR',
    nameEn: 'Land Registry',
    nameZh: '土地註冊處',
    weight: 1,
    topics: [
      ['Land Search', '查冊', 'land-search'],
      ['Property Alert', '物業把關', 'property-alert'],
      ['Document Registration', '文件註冊', 'doc-reg'],
    ],
  },
  {
    code: 'CR',
    nameEn: 'Companies Registry',
    nameZh: '公司註冊處',
    weight: 1,
    topics: [
      ['Company Search', '公司查冊', 'company-search'],
      ['Company Incorporation', '成立公司', 'incorporation'],
      ['Annual Return', '周年申報表', 'annual-return'],
    ],
  },
];

type Action = [en: string, zh: string, slug: string];
const ACTIONS: Action[] = [
  ['Online Application', '網上申請', 'apply'],
  ['Enquiry', '查詢', 'enquiry'],
  ['Appointment Booking', '預約', 'booking'],
  ['e-Payment', '電子繳費', 'pay'],
  ['Status Enquiry', '進度查詢', 'status'],
  ['Renewal', '續期', 'renewal'],
  ['e-Form Submission', '電子表格', 'eform'],
  ['Notification', '通知', 'notify'],
  ['Records', '紀錄', 'records'],
  ['Information Portal', '資訊網站', 'info'],
];

/**
 * Migration waves, from the savings in paragraph 12 (HK$ M: 10.4 in 2012-13, 14.6 in 2013-14,
 * 18.9 in 2014-15, 36.1 from 2015-16 when all are moved): the share of the full saving in a
 * year is the share of the 118 services moved by then. 10.4/36.1 of 118 ≈ 34 in 2012-13;
 * 14.6/36.1 ≈ 48 by 2013-14 (14 more); the remaining 70 during 2014-15, all done by 31 March 2015
 * so that 2015-16 has the full saving.
 */
export const MIGRATION_WAVES = [
  { wave: 1, services: 34, from: '2012-04-01', to: '2013-03-31' },
  { wave: 2, services: 14, from: '2013-04-01', to: '2014-03-31' },
  { wave: 3, services: 70, from: '2014-04-01', to: '2015-03-31' },
] as const;

/** New services, paragraph 8: 20 by October 2012, 80 more from October 2012 to March 2015. */
export const NEW_SERVICE_WAVES = [
  { wave: 1, services: 20, from: '2012-04-01', to: '2012-10-31' },
  { wave: 2, services: 80, from: '2012-11-01', to: '2015-03-31' },
] as const;

/**
 * 22 farms bought in phases (paragraph 9), one phase a financial year, in proportion to the
 * hardware budget of paragraph 15(a) (HK$ k: 21,800, 30,300, 15,600 and 6,500 in 2011-12 to
 * 2014-15): 22 × 21.8/74.2 ≈ 6, 22 × 30.3/74.2 ≈ 9, 22 × 15.6/74.2 ≈ 5 and 22 × 6.5/74.2 ≈ 2.
 * Each costs about HK$3.3 M (paragraph 13).
 */
export const FARM_PHASES = [
  { phase: 1, farms: 6, orderedOn: '2011-06-01', activeFrom: '2012-04-01' },
  { phase: 2, farms: 9, orderedOn: '2012-06-01', activeFrom: '2012-10-01' },
  { phase: 3, farms: 5, orderedOn: '2013-06-01', activeFrom: '2013-10-01' },
  { phase: 4, farms: 2, orderedOn: '2014-06-01', activeFrom: '2014-10-01' },
] as const;

const DAY_MS = 86_400_000;
const dayOf = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** `n` dates spread evenly over [from, to], in order. */
function spread(n: number, from: string, to: string): string[] {
  const a = dayOf(from);
  const days = Math.round((dayOf(to) - a) / DAY_MS);
  return Array.from({ length: n }, (_, i) => dateOf(a + Math.round(((i + 1) / n) * days) * DAY_MS));
}

/** Hands out `total` among departments by weight, each at least one (largest remainders). */
function apportion(total: number, weights: number[]): number[] {
  const rest = total - weights.length;
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (rest * w) / sum);
  const counts = exact.map((x) => 1 + Math.floor(x));
  const order = exact
    .map((x, i) => [x - Math.floor(x), i] as const)
    .sort((p, q) => q[0] - p[0] || p[1] - q[1]);
  let left = total - counts.reduce((a, b) => a + b, 0);
  for (const [, i] of order) {
    if (left-- <= 0) break;
    counts[i] = (counts[i] as number) + 1;
  }
  return counts;
}

function shuffle<T>(items: T[], rand: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * Expected size per tier, illustrative (the paper gives none): a 2011-era service ran web,
 * application and database tiers in pairs, so a gold one is sized as six 8 GiB instances of
 * 4 vCPU. With the workload's 48 gold, 89 silver and 81 bronze services this comes to about
 * 2,030 vCPU and 5,800 GiB by March 2015: some 72 % of the 22 farms' CPU, the paper's plan
 * under an 80 % target.
 */
const SIZES = {
  gold: { instances: 6, memoryMb: 8 * 1024, cpu: 4 },
  silver: { instances: 4, memoryMb: 8 * 1024, cpu: 2 },
  bronze: { instances: 2, memoryMb: 4 * 1024, cpu: 1 },
} as const;

export interface PaperWorkload {
  departments: PaperDepartment[];
  services: PaperService[];
  farms: PaperFarm[];
}

/** Builds the workload; the same seed gives the same workload. */
export function paperWorkload(seed = 2011_04_15): PaperWorkload {
  const rand = seeded(seed);
  const departments = DEPARTMENTS.map((d) => ({
    code: d.code,
    nameEn: `${d.nameEn} (illustrative)`,
    nameZh: `${d.nameZh}（示例）`,
  }));
  // Every field's topic × action pairs, shuffled once: services take them in turn, so no
  // department repeats a name.
  const names = DEPARTMENTS.map((d) =>
    shuffle(
      d.topics.flatMap((t) => ACTIONS.map((a) => [t, a] as const)),
      rand,
    ),
  );
  const used = DEPARTMENTS.map(() => 0);
  const nameFor = (di: number) => {
    const n = used[di] ?? 0;
    used[di] = n + 1;
    const pair = names[di]?.[n];
    if (!pair) throw new Error(`department ${DEPARTMENTS[di]?.code} ran out of illustrative names`);
    const [[tEn, tZh, tSlug], [aEn, aZh, aSlug]] = pair;
    return { nameEn: `${tEn} ${aEn}`, nameZh: `${tZh}${aZh}`, slug: `${tSlug}-${aSlug}` };
  };
  const weights = DEPARTMENTS.map((d) => d.weight);
  const tierOf = (r: number): PaperService['slaTier'] => (r < 0.15 ? 'gold' : r < 0.6 ? 'silver' : 'bronze');

  // Which department each service belongs to: apportioned by weight, then shuffled over waves.
  const owners = (total: number) =>
    shuffle(
      apportion(total, weights).flatMap((n, di) => Array.from({ length: n }, () => di)),
      rand,
    );

  const services: PaperService[] = [];
  const migratedOwners = owners(118);
  let egis = 0;
  for (const w of MIGRATION_WAVES) {
    for (const goLive of spread(w.services, w.from, w.to)) {
      const di = migratedOwners[egis] as number;
      egis++;
      const tier = tierOf(rand());
      const ref = `EGIS-${String(egis).padStart(4, '0')}`;
      services.push({
        department: DEPARTMENTS[di]?.code as string,
        ...nameFor(di),
        description: `${ILLUSTRATIVE} Hosted on EGIS as ${ref}; moves in migration wave ${w.wave}, planned go-live ${goLive}.`,
        origin: 'migrated',
        egisRef: ref,
        channels: rand() < 0.2 ? ['web', 'mobile'] : ['web'],
        personalised: false,
        slaTier: tier,
        goLive,
        wave: w.wave,
        ...SIZES[tier],
      });
    }
  }

  // New services: 80 of the 100 for mobile devices and 20 personalised (paragraph 4), chosen
  // by shuffled position so that both kinds fall in both waves.
  const newOwners = owners(100);
  const mobile = new Set(shuffle([...Array(100).keys()], rand).slice(0, 80));
  const personalised = new Set(shuffle([...Array(100).keys()], rand).slice(0, 20));
  let k = 0;
  for (const w of NEW_SERVICE_WAVES) {
    for (const goLive of spread(w.services, w.from, w.to)) {
      const di = newOwners[k] as number;
      const tier = personalised.has(k) ? 'gold' : tierOf(rand());
      const wave =
        w.wave === 1 ? 'the first 20 new services (by October 2012)' : 'the 80 that follow (to March 2015)';
      services.push({
        department: DEPARTMENTS[di]?.code as string,
        ...nameFor(di),
        description: `${ILLUSTRATIVE} New service among ${wave}; planned go-live ${goLive}.${personalised.has(k) ? " Personalised: linked to citizens' MyGovHK accounts." : ''}`,
        origin: 'new',
        egisRef: null,
        channels: mobile.has(k) ? ['web', 'mobile'] : ['web'],
        personalised: personalised.has(k),
        slaTier: tier,
        goLive,
        wave: w.wave,
        ...SIZES[tier],
      });
      k++;
    }
  }

  // Farms of one 2011-era size: 2 racks of blade servers (illustrative figures).
  const farms: PaperFarm[] = [];
  for (const p of FARM_PHASES) {
    for (let i = 0; i < p.farms; i++) {
      const n = farms.length + 1;
      farms.push({
        code: `FARM-${String(n).padStart(2, '0')}`,
        name: `Server farm ${n} (phase ${p.phase}, illustrative)`,
        vcpu: 128,
        memoryMb: 512 * 1024,
        storageGb: 20_000,
        idleWatts: 4_000,
        maxWatts: 9_000,
        costHkd: 3_300_000,
        phase: p.phase,
        orderedOn: p.orderedOn,
        activeFrom: p.activeFrom,
      });
    }
  }
  return { departments, services, farms };
}

/** A farm's state on a given day, from its planned dates. */
export function farmStateOn(farm: Pick<PaperFarm, 'orderedOn' | 'activeFrom'>, day: string) {
  if (day >= farm.activeFrom) return 'active' as const;
  if (day >= farm.orderedOn) return 'ordered' as const;
  return 'planned' as const;
}
