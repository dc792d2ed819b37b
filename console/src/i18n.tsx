import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';

const en = {
  appName: 'GovHost console',
  skip: 'Skip to main content',
  signIn: 'Sign in',
  signInTitle: 'Sign in to GovHost',
  signOut: 'Sign out',
  username: 'User name',
  password: 'Password',
  signingIn: 'Signing in…',
  loginFailed: 'Wrong user name or password.',
  language: 'Language',
  nav: 'Main',
  services: 'Services',
  incidents: 'Incidents',
  departments: 'Departments',
  audit: 'Audit log',
  signedInAs: 'Signed in as',
  loading: 'Loading…',
  error: 'Something went wrong',
  notFound: 'Not found',
  notFoundText: 'There is no such page, or you may not see it.',
  serviceNotFound: 'Service not found',
  serviceNotFoundText: 'No service by that name is visible to you.',
  backToServices: 'Back to services',
  name: 'Name',
  department: 'Department',
  state: 'State',
  tier: 'SLA tier',
  lifecycle: 'Lifecycle',
  noServices: 'No services yet.',
  running: 'running',
  notDeployed: 'not deployed',
  unknown: 'unknown',
  instancesUp: '{up} of {want} instances running',
  overview: 'Overview',
  logs: 'Logs',
  charts: 'Charts',
  health: 'Alerts and SLA',
  instances: 'Instances',
  instance: 'Instance',
  restarts: 'Restarts',
  memory: 'Memory',
  started: 'Started',
  release: 'Release',
  releases: 'Releases',
  version: 'Version',
  description: 'Description',
  createdBy: 'By',
  created: 'When',
  rollback: 'Roll back to this release',
  rollbackDone: 'Rollback started.',
  scale: 'Scale',
  instancesCount: 'Number of instances',
  memoryMb: 'Memory per instance (MB)',
  apply: 'Apply',
  scaleStarted: 'Scaling started: {message}',
  lastDeployment: 'Last deployment',
  address: 'Address',
  env: 'Environment variables',
  noEnv: 'No variables.',
  key: 'Key',
  value: 'Value',
  secret: 'secret',
  noInstances: 'No instances.',
  liveLogs: 'Live logs',
  logsUpdated: 'Updated every 3 seconds.',
  noLogs: 'No output yet.',
  pause: 'Pause',
  resume: 'Resume',
  range: 'Time range',
  lastHour: 'Last hour',
  last6h: 'Last 6 hours',
  last24h: 'Last 24 hours',
  last7d: 'Last 7 days',
  requests: 'Requests per step',
  errors: '5xx error rate (%)',
  latency: 'Latency p95 (ms)',
  cpu: 'CPU (% of one core)',
  memoryChart: 'Memory (MB)',
  noData: 'No data in this range.',
  latest: 'latest {value}, highest {max}',
  alerts: 'Alerts',
  noAlerts: 'No alerts.',
  rule: 'Rule',
  message: 'Message',
  since: 'Since',
  resolvedAt: 'Resolved',
  noIncidents: 'No incidents.',
  severity: 'Severity',
  title: 'Title',
  opened: 'Opened',
  acknowledged: 'Acknowledged',
  acknowledge: 'Acknowledge',
  resolve: 'Resolve',
  open: 'open',
  resolved: 'resolved',
  firing: 'firing',
  service: 'Service',
  actions: 'Actions',
  openIncidents: 'Open incidents',
  sla: 'SLA this month',
  availability: 'Availability',
  target: 'Target',
  downtime: 'Downtime (minutes)',
  outages: 'Outages',
  met: 'Met',
  yes: 'yes',
  no: 'no',
  noSla: 'No SLA figures for this service yet.',
  servicesCount: 'Services',
  platformHealth: 'Platform health',
  allServices: 'All services',
  when: 'When',
  actor: 'Actor',
  action: 'Action',
  target_: 'Target',
  filter: 'Filter by actor, action or target',
  older: 'Older records',
  noRecords: 'No records.',
  up: 'up',
  down: 'down',
} as const;

export type MessageKey = keyof typeof en;

const zh: Record<MessageKey, string> = {
  appName: 'GovHost 控制台',
  skip: '跳至主要內容',
  signIn: '登入',
  signInTitle: '登入 GovHost',
  signOut: '登出',
  username: '用戶名稱',
  password: '密碼',
  signingIn: '登入中…',
  loginFailed: '用戶名稱或密碼錯誤。',
  language: '語言',
  nav: '主選單',
  services: '服務',
  incidents: '事故',
  departments: '部門',
  audit: '審計紀錄',
  signedInAs: '已登入：',
  loading: '載入中…',
  error: '發生錯誤',
  notFound: '找不到頁面',
  notFoundText: '此頁面不存在，或你無權查看。',
  serviceNotFound: '找不到服務',
  serviceNotFoundText: '你無法查看此名稱的服務。',
  backToServices: '返回服務列表',
  name: '名稱',
  department: '部門',
  state: '狀態',
  tier: 'SLA 級別',
  lifecycle: '生命週期',
  noServices: '尚未有服務。',
  running: '運行中',
  notDeployed: '未部署',
  unknown: '不明',
  instancesUp: '{want} 個實例中 {up} 個運行中',
  overview: '概覽',
  logs: '日誌',
  charts: '圖表',
  health: '警報及 SLA',
  instances: '實例',
  instance: '實例',
  restarts: '重啟次數',
  memory: '記憶體',
  started: '啟動時間',
  release: '版本',
  releases: '發行版本',
  version: '版本',
  description: '說明',
  createdBy: '執行者',
  created: '時間',
  rollback: '回復至此版本',
  rollbackDone: '已開始回復。',
  scale: '調整規模',
  instancesCount: '實例數目',
  memoryMb: '每個實例的記憶體 (MB)',
  apply: '套用',
  scaleStarted: '已開始調整規模：{message}',
  lastDeployment: '最近部署',
  address: '網址',
  env: '環境變數',
  noEnv: '沒有環境變數。',
  key: '名稱',
  value: '值',
  secret: '機密',
  noInstances: '沒有實例。',
  liveLogs: '即時日誌',
  logsUpdated: '每 3 秒更新。',
  noLogs: '尚未有輸出。',
  pause: '暫停',
  resume: '繼續',
  range: '時間範圍',
  lastHour: '過去一小時',
  last6h: '過去六小時',
  last24h: '過去二十四小時',
  last7d: '過去七日',
  requests: '每段時間的請求數',
  errors: '5xx 錯誤率 (%)',
  latency: '延遲 p95 (毫秒)',
  cpu: 'CPU (單核心百分比)',
  memoryChart: '記憶體 (MB)',
  noData: '此時間範圍內沒有數據。',
  latest: '最新 {value}，最高 {max}',
  alerts: '警報',
  noAlerts: '沒有警報。',
  rule: '規則',
  message: '訊息',
  since: '開始時間',
  resolvedAt: '解決時間',
  noIncidents: '沒有事故。',
  severity: '嚴重程度',
  title: '標題',
  opened: '開啟時間',
  acknowledged: '已確認',
  acknowledge: '確認',
  resolve: '解決',
  open: '未解決',
  resolved: '已解決',
  firing: '觸發中',
  service: '服務',
  actions: '操作',
  openIncidents: '未解決事故',
  sla: '本月 SLA',
  availability: '可用率',
  target: '目標',
  downtime: '停機時間 (分鐘)',
  outages: '中斷次數',
  met: '達標',
  yes: '是',
  no: '否',
  noSla: '此服務尚未有 SLA 數據。',
  servicesCount: '服務數目',
  platformHealth: '平台健康狀況',
  allServices: '所有服務',
  when: '時間',
  actor: '執行者',
  action: '動作',
  target_: '對象',
  filter: '按執行者、動作或對象篩選',
  older: '較早紀錄',
  noRecords: '沒有紀錄。',
  up: '正常',
  down: '停止',
};

export type Lang = 'en' | 'zh-Hant';
const DICTS: Record<Lang, Record<MessageKey, string>> = { en, 'zh-Hant': zh };

interface I18n {
  lang: Lang;
  setLang(lang: Lang): void;
  t(key: MessageKey, vars?: Record<string, string | number>): string;
  /** Formats a timestamp in the chosen language. */
  time(iso: string | null): string;
}

const Ctx = createContext<I18n | null>(null);
const storageKey = (user: string | null) => (user ? `govhost.lang.${user}` : 'govhost.lang');

function stored(user: string | null): Lang | null {
  try {
    const v = localStorage.getItem(storageKey(user));
    return v === 'en' || v === 'zh-Hant' ? v : null;
  } catch {
    return null;
  }
}

/** The language is remembered per user in this browser (and, before sign-in, for the browser). */
export function I18nProvider({ user, children }: { user: string | null; children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(() => stored(user) ?? stored(null) ?? 'en');
  useEffect(() => {
    const mine = stored(user);
    if (mine) setLangState(mine);
  }, [user]);
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = DICTS[lang].appName;
  }, [lang]);
  const setLang = useCallback(
    (l: Lang) => {
      setLangState(l);
      try {
        localStorage.setItem(storageKey(user), l);
        localStorage.setItem(storageKey(null), l);
      } catch {
        // Private mode: the choice lasts for this page only.
      }
    },
    [user],
  );
  const value = useMemo<I18n>(() => {
    const dict = DICTS[lang];
    const fmt = new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'zh-HK', {
      dateStyle: 'medium',
      timeStyle: 'short',
    });
    return {
      lang,
      setLang,
      t: (key, vars) =>
        dict[key].replace(/\{(\w+)\}/g, (_m, name: string) => String(vars?.[name] ?? `{${name}}`)),
      time: (iso) => (iso ? fmt.format(new Date(iso)) : '—'),
    };
  }, [lang, setLang]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(Ctx);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}
