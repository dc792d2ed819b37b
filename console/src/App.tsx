import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { can } from './access.ts';
import { get, type Me, send, setUnauthenticatedHandler } from './api.ts';
import { I18nProvider, useI18n } from './i18n.tsx';
import { AuditPage } from './pages/Audit.tsx';
import { CapacityPage } from './pages/Capacity.tsx';
import { CertificatesPage } from './pages/Certificates.tsx';
import { DepartmentsPage } from './pages/Departments.tsx';
import { DomainQueuePage } from './pages/Domains.tsx';
import { FinancePage } from './pages/Finance.tsx';
import { IncidentsPage } from './pages/Incidents.tsx';
import { MigrationItemPage, MigrationPage, MigrationWavePage } from './pages/Migration.tsx';
import { PaymentPage, PaymentsPage, ServicePaymentsPage } from './pages/Payments.tsx';
import { RequestsPage } from './pages/Requests.tsx';
import { ServicePage } from './pages/Service.tsx';
import { ServicesPage } from './pages/Services.tsx';
import { SignIn } from './pages/SignIn.tsx';
import { SlaTargetsPage, SupportPage, TicketPage } from './pages/Support.tsx';
import { SupportReportPage } from './pages/SupportExtras.tsx';
import { UsersPage, UserTokensPage } from './pages/Users.tsx';
import { Link, match, navigate, useLocation } from './router.tsx';
import { LanguageSwitch } from './ui.tsx';

const PLATFORM_ROLES = new Set(['platform-admin', 'operator']);

export function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const refresh = useCallback(async () => {
    try {
      setMe(await get<Me>('/me'));
    } catch {
      setMe(null);
    }
  }, []);
  useEffect(() => {
    setUnauthenticatedHandler(() => setMe(null));
    void refresh();
  }, [refresh]);

  return (
    <I18nProvider user={me?.username ?? null} serverLang={me?.locale ?? null}>
      {me === undefined ? null : me === null ? (
        <SignIn onSignedIn={refresh} />
      ) : (
        <Shell me={me} onSignedOut={() => setMe(null)} />
      )}
    </I18nProvider>
  );
}

function Shell({ me, onSignedOut }: { me: Me; onSignedOut(): void }) {
  const { t } = useI18n();
  const { path, search } = useLocation();
  const main = useRef<HTMLElement>(null);
  const platform = PLATFORM_ROLES.has(me.role);
  const canAudit = platform || me.role === 'dept-admin';
  const canUsers = canAudit;
  const canCapacity = can(me.role, 'capacity:read');
  const canApproveDomains = can(me.role, 'domain:approve');
  const canCertificates = can(me.role, 'certificates:read');

  // Moving focus to the new page's content tells screen-reader users that the page changed.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on each navigation
  useEffect(() => {
    main.current?.focus();
  }, [path]);

  const signOut = async () => {
    try {
      await send('DELETE', '/auth/session');
    } finally {
      navigate('/');
      onSignedOut();
    }
  };

  const serviceParams = match('/services/:dept/:slug/:tab?', path);
  const userParams = match('/users/:username', path);
  const capacityParams = match('/capacity/:tab?', path);
  const waveParams = match('/migration/waves/:number', path);
  const itemParams = match('/migration/items/:dept/:ref', path);
  const ticketParams = match('/support/tickets/:id', path);
  const financeParams = match('/finance/:tab?', path);
  const paymentParams = match('/payments/:dept/:slug/:id?', path);
  const canPayments = can(me.role, 'payments:read');
  let page: ReactNode;
  if (path === '/' || path === '/services') page = <ServicesPage />;
  else if (serviceParams)
    page = (
      <ServicePage
        dept={serviceParams.dept!}
        slug={serviceParams.slug!}
        tab={serviceParams.tab ?? 'overview'}
        canClaimDomains={can(me.role, 'domain:write')}
        canChangeService={can(me.role, 'service:write')}
      />
    );
  else if (path === '/incidents') page = <IncidentsPage state={search.get('state') ?? 'open'} />;
  else if (path === '/requests') page = <RequestsPage me={me} />;
  // Not rendered at all for other roles, so nothing is even asked of the API.
  else if (capacityParams && canCapacity) page = <CapacityPage me={me} tab={capacityParams.tab ?? 'farms'} />;
  else if (path === '/domains' && canApproveDomains) page = <DomainQueuePage />;
  else if (path === '/certificates' && canCertificates) page = <CertificatesPage />;
  else if (path === '/migration') page = <MigrationPage />;
  else if (waveParams && /^\d+$/.test(waveParams.number!))
    page = <MigrationWavePage number={Number(waveParams.number)} />;
  else if (itemParams)
    page = (
      <MigrationItemPage
        dept={itemParams.dept!}
        itemRef={itemParams.ref!}
        canMove={can(me.role, 'migration:write')}
      />
    );
  else if (path === '/support') page = <SupportPage me={me} />;
  else if (ticketParams && /^\d+$/.test(ticketParams.id!))
    page = <TicketPage id={Number(ticketParams.id)} me={me} />;
  else if (path === '/support/sla' && can(me.role, 'ticket:operate')) page = <SlaTargetsPage />;
  else if (path === '/support/report') page = <SupportReportPage />;
  else if (financeParams && can(me.role, 'finance:read'))
    page = <FinancePage me={me} tab={financeParams.tab ?? ''} />;
  else if (path === '/payments' && canPayments) page = <PaymentsPage me={me} />;
  else if (paymentParams && canPayments)
    page = paymentParams.id ? (
      <PaymentPage me={me} dept={paymentParams.dept!} slug={paymentParams.slug!} id={paymentParams.id} />
    ) : (
      <ServicePaymentsPage dept={paymentParams.dept!} slug={paymentParams.slug!} />
    );
  else if (path === '/departments' && platform) page = <DepartmentsPage />;
  else if (path === '/audit' && canAudit) page = <AuditPage />;
  else if (path === '/users' && canUsers) page = <UsersPage me={me} />;
  else if (userParams && (canUsers || userParams.username === me.username))
    page = <UserTokensPage me={me} username={userParams.username!} />;
  else
    page = (
      <>
        <h1>{t('notFound')}</h1>
        <p>{t('notFoundText')}</p>
      </>
    );

  const navLink = (href: string, label: string) => {
    const current = href === '/' ? path === '/' || path.startsWith('/services') : path.startsWith(href);
    return (
      <li>
        <Link href={href} aria-current={current ? 'page' : undefined}>
          {label}
        </Link>
      </li>
    );
  };

  return (
    <>
      <a className="skip" href="#main">
        {t('skip')}
      </a>
      <header className="top">
        <Link href="/" className="brand">
          {t('appName')}
        </Link>
        <nav aria-label={t('nav')}>
          <ul>
            {navLink('/', t('services'))}
            {navLink('/incidents', t('incidents'))}
            {navLink('/requests', t('hostingRequests'))}
            {navLink('/migration', t('migration'))}
            {navLink('/support', t('support'))}
            {canCapacity && navLink('/capacity', t('capacity'))}
            {canApproveDomains && navLink('/domains', t('domains'))}
            {canCertificates && navLink('/certificates', t('certificates'))}
            {can(me.role, 'finance:read') && navLink('/finance', t('finance'))}
            {canPayments && navLink('/payments', t('payments'))}
            {platform && navLink('/departments', t('departments'))}
            {canUsers && navLink('/users', t('users'))}
            {canAudit && navLink('/audit', t('audit'))}
          </ul>
        </nav>
        <div className="user">
          <LanguageSwitch />
          <span className="who">
            {t('signedInAs')}{' '}
            <Link href={`/users/${encodeURIComponent(me.username)}`} title={t('myTokens')}>
              <strong>{me.username}</strong>
            </Link>
            {me.department ? ` (${me.department})` : ''}
          </span>
          <button type="button" onClick={signOut}>
            {t('signOut')}
          </button>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {page}
      </main>
    </>
  );
}
