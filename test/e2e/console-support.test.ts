// test-seconds: 50
// The support desk end to end in a real browser against the real server: a department developer
// raises a ticket in the console; an operator acknowledges it, comments internally and resolves
// it; the developer reads it (no internal comment) and again in Traditional Chinese. A gold P1
// ticket the desk imports from an older desk, raised there 30 minutes ago and never answered, is
// past its 10-minute response target: the SLA watch notifies a webhook receiver (signed, once) and
// the ticket shows the breach. The ticket page's watchers (add, remove), attachments (a PNG up and
// down again; a program and a large file refused, saying why) and service link, and the monthly
// report (table and CSV), in English and Traditional Chinese. Every page passes axe.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyWebhook,
} from '../../src/monitoring/notification.senders.ts';
import { CHROMIUM, type ConsoleRig, checkA11y, newPage, signIn, startConsoleRig } from './browser-helpers.ts';

const DEPT = 'SUP';
const DEV = 'sup.dev';
const OPERATOR = 'sup.op';
const COLLEAGUE = 'sup.dev2';
const READER = 'sup.reader';
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(40, 7),
]);
const PASSWORD = 'support console password';

let rig: ConsoleRig;
let receiver: Server;
const received: { event: string; ticket?: { id: number }; signed: boolean }[] = [];
let secret = '';
let onReceive = () => {};

async function call(method: string, path: string, body: unknown, status: number) {
  const res = await rig.api(method, path, body);
  assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.json)}`);
  return res.json as Record<string, unknown>;
}

/** Resolves when the receiver has a payload that `pred` accepts (the SLA watch runs every second). */
function receivedWhere(pred: (p: (typeof received)[number]) => boolean, what: string, ms = 30_000) {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${what} within ${ms} ms: ${JSON.stringify(received)}`)),
      ms,
    );
    const check = () => {
      if (!received.some(pred)) return;
      clearTimeout(timer);
      resolve();
    };
    onReceive = check;
    check();
  });
}

describe('the support desk in the console', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}` }, () => {
  let late: number;
  before(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        const signed = verifyWebhook(
          secret,
          {
            timestamp: req.headers[TIMESTAMP_HEADER] as string,
            signature: req.headers[SIGNATURE_HEADER] as string,
          },
          body,
        );
        received.push({ ...JSON.parse(body), signed });
        res.end('ok');
        onReceive();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    rig = await startConsoleRig('console-support-e2e', {
      GOVHOST_WEBHOOK_ALLOW: '127.0.0.1',
      GOVHOST_SUPPORT_CHECK_SECONDS: '1',
    });
    await call('POST', '/departments', { code: DEPT, nameEn: 'Support Department', nameZh: '支援部' }, 201);
    for (const [username, role] of [
      [DEV, 'dept-developer'],
      [COLLEAGUE, 'dept-developer'],
      [READER, 'dept-viewer'],
      [OPERATOR, 'operator'],
    ] as const)
      await call(
        'POST',
        '/users',
        {
          username,
          displayName: username,
          role,
          password: PASSWORD,
          ...(role === 'operator' ? {} : { department: DEPT }),
        },
        201,
      );
    await call(
      'POST',
      '/services',
      {
        department: DEPT,
        slug: 'payments',
        nameEn: 'Payments',
        nameZh: '付款',
        origin: 'new',
        channels: ['web'],
        slaTier: 'gold',
      },
      201,
    );
    // The central desk's channel hears of every department's tickets.
    const port = (receiver.address() as AddressInfo).port;
    const channel = await call(
      'POST',
      '/notification-channels',
      { kind: 'webhook', url: `http://127.0.0.1:${port}/desk`, department: null },
      201,
    );
    secret = channel.secret as string;
    // Gold P1 is answered within 10 minutes here. The desk imports a ticket raised on its older
    // desk 30 minutes ago that nobody answered: the watch's next round finds it breached.
    await call(
      'PUT',
      '/support/sla-targets/gold/P1',
      { responseMinutes: 10, resolutionMinutes: 60, hours: '24x7' },
      200,
    );
    late = (
      await call(
        'POST',
        '/tickets',
        {
          service: `${DEPT}/payments`,
          kind: 'incident',
          priority: 'P1',
          title: 'Payments down',
          description: 'Nobody answers this one.',
          raisedAt: new Date(Date.now() - 30 * 60_000).toISOString(),
        },
        201,
      )
    ).id as number;
  });
  after(async () => {
    await rig?.stop();
    receiver?.close();
  });

  it('raised by a developer, acknowledged and resolved by an operator; a breach is notified and shown', async () => {
    const dev = await newPage(rig.browser);
    await signIn(dev, rig.url, DEV, PASSWORD);
    await dev.getByRole('link', { name: 'Support' }).click();
    await dev.getByRole('heading', { name: 'Support', exact: true }).waitFor();
    await dev.getByLabel('Title').fill('Receipts are not e-mailed');
    await dev.getByLabel('Description').fill('Since this morning no receipt arrives.');
    await dev.getByLabel('Priority').selectOption('P3');
    await dev.getByLabel('Kind').selectOption('incident');
    await dev.getByLabel('Service (optional)').fill('payments');
    await checkA11y(dev, 'support list and raise form');
    await dev.getByRole('button', { name: 'Raise a ticket' }).click();
    const heading = dev.getByRole('heading', { name: /^#\d+: Receipts are not e-mailed$/ });
    await heading.waitFor();
    const id = Number(/#(\d+)/.exec((await heading.textContent()) ?? '')?.[1]);
    await dev.locator('[data-testid="ticket-status"]').getByText('new').waitFor();
    await checkA11y(dev, 'ticket raised');

    // Watchers: the developer adds two colleagues and removes one.
    await dev.getByLabel('User name', { exact: true }).fill(COLLEAGUE);
    await dev.getByRole('button', { name: 'Add a watcher' }).click();
    await dev.getByText(`${COLLEAGUE} now watches this ticket.`).waitFor();
    await dev.getByLabel('User name', { exact: true }).fill(READER);
    await dev.getByRole('button', { name: 'Add a watcher' }).click();
    await dev.getByRole('button', { name: `Remove ${READER}` }).waitFor();
    await dev.getByRole('button', { name: `Remove ${READER}` }).click();
    await dev.getByText(`${READER} no longer watches this ticket.`).waitFor();
    // The message comes with the answer; the list is read again after it: wait for that too.
    await dev.getByRole('button', { name: `Remove ${READER}` }).waitFor({ state: 'detached' });
    assert.deepEqual(await dev.locator('[data-testid="watchers"] li').allTextContents(), [
      `${COLLEAGUE} Remove ${COLLEAGUE}`,
    ]);
    // Attachments: a PNG goes in and downloads the same; a program and a large file are refused, and say why.
    const file = dev.getByLabel('File', { exact: true });
    await file.setInputFiles({
      name: 'setup.exe',
      mimeType: 'image/png',
      buffer: Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00]),
    });
    await dev.getByRole('button', { name: 'Attach a file' }).click();
    await dev.getByText('setup.exe is not PNG, JPEG, PDF or plain text').waitFor();
    await file.setInputFiles({
      name: 'huge.txt',
      mimeType: 'text/plain',
      buffer: Buffer.alloc(600 * 1024, 'a'),
    });
    await dev.getByRole('button', { name: 'Attach a file' }).click();
    await dev.getByText(/huge\.txt is 614400 bytes; attachments may be up to 512 KiB/).waitFor();
    await file.setInputFiles({ name: 'screen.png', mimeType: 'image/png', buffer: PNG });
    await dev.getByRole('button', { name: 'Attach a file' }).click();
    await dev.getByText('screen.png attached.').waitFor();
    const download = dev
      .locator('tr[data-attachment="screen.png"]')
      .getByRole('link', { name: 'screen.png' });
    const fetched = await dev.request.get(new URL((await download.getAttribute('href')) ?? '', rig.url).href);
    assert.equal(fetched.status(), 200);
    assert.deepEqual(Buffer.from(await fetched.body()), PNG);
    await checkA11y(dev, 'ticket with watchers and an attachment');

    const op = await newPage(rig.browser);
    await signIn(op, rig.url, OPERATOR, PASSWORD);
    await op.goto(`${rig.url}/support/tickets/${id}`);
    await op.getByRole('button', { name: 'Assign to me' }).click();
    await op.getByText('Assigned to you.').waitFor();
    await op.getByLabel('Next state').selectOption('acknowledged');
    await op.getByRole('button', { name: 'Move', exact: true }).click();
    await op.getByText('The ticket is now acknowledged.').waitFor();
    await op.getByLabel('Comment', { exact: true }).fill('Mail relay queue is stuck');
    await op.getByLabel(/internal/).check();
    await op.getByRole('button', { name: 'Add a comment' }).click();
    await op.getByText('Comment added.').waitFor();
    await op.getByLabel('Next state').selectOption('resolved');
    await op.getByLabel('Reason').fill('Relay restarted');
    await op.getByRole('button', { name: 'Move', exact: true }).click();
    await op.getByText('The ticket is now resolved.').waitFor();
    await op.getByRole('cell', { name: 'acknowledged → resolved' }).waitFor();
    await op.getByLabel('Service', { exact: true }).fill(`${DEPT}/payments`);
    await op.getByRole('button', { name: 'Set the service' }).click();
    await op.getByText('Linked.').waitFor();
    await op.getByRole('cell', { name: `service ${DEPT}/payments` }).waitFor();
    await checkA11y(op, 'ticket worked by the desk');
    // The month's report: the two tickets of SUP (P3 and P1), and the same as CSV.
    await op.goto(`${rig.url}/support`);
    await op.getByRole('link', { name: 'Monthly report' }).click();
    await op.getByRole('heading', { name: 'Monthly report' }).waitFor();
    await op.locator(`tr[data-line="${DEPT}/P3"]`).waitFor();
    const cells = await op.locator(`tr[data-line="${DEPT}/P3"] td`).allTextContents();
    assert.deepEqual(cells.slice(0, 4), [DEPT, 'P3', '1', '1'], 'one P3 ticket, responded');
    assert.equal(cells[6], '1', 'and resolved');
    const csvHref = await op.getByRole('link', { name: /as CSV$/ }).getAttribute('href');
    const csv = await op.request.get(new URL(csvHref ?? '', rig.url).href);
    assert.equal(csv.status(), 200);
    const csvLines = (await csv.text()).split('\r\n');
    assert.match(csvLines[0] ?? '', /^department,priority,tickets,responded,/);
    assert.ok(
      csvLines.some((l) => l.startsWith(`${DEPT},P3,1,1,`)),
      csvLines.join('\n'),
    );
    await checkA11y(op, 'monthly report');
    await op.goto(`${rig.url}/support/sla`);
    await op.locator('tr[data-target="gold/P1"]').getByText('10 min').waitFor();
    await checkA11y(op, 'SLA targets');

    await dev.reload();
    await dev.locator('[data-testid="ticket-status"]').getByText('resolved').waitFor();
    await dev.getByRole('cell', { name: 'Relay restarted' }).waitFor();
    assert.equal(
      await dev.getByText('Mail relay queue is stuck').count(),
      0,
      'internal comments stay with the desk',
    );
    await dev.getByLabel('Language').selectOption('zh-Hant');
    await dev.locator('[data-testid="ticket-status"]').getByText('已解決').waitFor();
    await dev.getByRole('heading', { name: '附件' }).waitFor();
    await checkA11y(dev, 'ticket in Chinese');
    await dev.goto(`${rig.url}/support/report`);
    await dev.getByRole('heading', { name: '每月報告' }).waitFor();
    await dev.locator(`tr[data-line="${DEPT}/P3"]`).waitFor();
    await checkA11y(dev, 'monthly report in Chinese');
    await dev.getByLabel('語言').selectOption('en');

    await receivedWhere(
      (p) => p.event === 'ticket.sla-breach' && p.ticket?.id === late,
      'breach notification',
    );
    assert.equal(received.filter((p) => p.event === 'ticket.sla-breach' && p.ticket?.id === late).length, 1);
    assert.ok(
      received.every((p) => p.signed),
      'every delivery carries a valid signature',
    );
    assert.ok(
      received.some((p) => p.event === 'ticket.updated' && p.ticket?.id === id),
      'public changes notified',
    );
    await dev.goto(`${rig.url}/support`);
    await dev.locator(`tr[data-ticket="${late}"]`).getByText('SLA breached').waitFor();
    await dev.locator(`tr[data-ticket="${late}"]`).getByRole('link').click();
    await dev
      .locator('tr[data-kind="sla"]')
      .getByText(/response target of 10 min breached/)
      .waitFor();
    await checkA11y(dev, 'breached ticket');
    await dev.context().close();
    await op.context().close();
  });
});
