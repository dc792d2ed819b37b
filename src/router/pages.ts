import { STATUS_CODES } from 'node:http';

/**
 * The router's own answers when it cannot hand a request to a service. Citizens see these, so
 * they say plainly what happened in English and Traditional Chinese, and never show internals.
 */

const TEXT: Record<number, { title: string; zh: string; detail: string }> = {
  301: { title: 'Moved permanently', zh: '已永久移至', detail: 'This service is served over HTTPS.' },
  308: { title: 'Permanent redirect', zh: '永久重新導向', detail: 'This service is served over HTTPS.' },
  400: { title: 'Bad request', zh: '要求無效', detail: 'The request could not be understood.' },
  403: { title: 'Forbidden', zh: '禁止存取', detail: 'You may not open this address.' },
  404: { title: 'Not found', zh: '找不到網頁', detail: 'There is no page at this address.' },
  405: { title: 'Method not allowed', zh: '不支援此方法', detail: 'This address only serves pages.' },
  408: { title: 'Request timeout', zh: '要求逾時', detail: 'The request took too long to arrive.' },
  413: {
    title: 'Request too large',
    zh: '要求過大',
    detail: 'The data sent is larger than this service accepts.',
  },
  417: { title: 'Expectation failed', zh: '無法滿足要求', detail: 'The Expect header is not supported.' },
  431: { title: 'Headers too large', zh: '標頭過大', detail: 'The request headers are too large.' },
  500: { title: 'Internal error', zh: '內部錯誤', detail: 'Something went wrong on our side.' },
  501: {
    title: 'Not implemented',
    zh: '不支援',
    detail: 'The request uses a feature this server does not support.',
  },
  502: {
    title: 'Bad gateway',
    zh: '網關錯誤',
    detail: 'The service did not answer properly. Please try again in a moment.',
  },
  503: {
    title: 'Service unavailable',
    zh: '服務暫時未能提供',
    detail: 'The service is not running at the moment. Please try again later.',
  },
  504: {
    title: 'Gateway timeout',
    zh: '網關逾時',
    detail: 'The service took too long to answer. Please try again later.',
  },
  505: { title: 'HTTP version not supported', zh: '不支援此 HTTP 版本', detail: 'Use HTTP/1.1.' },
};

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The HTML of the page for `status`; `detail` replaces the standard sentence. */
export function pageHtml(status: number, detail?: string): string {
  const t = TEXT[status] ?? TEXT[500]!;
  const body = escapeHtml(detail ?? t.detail);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${status} ${t.title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.5rem}p{line-height:1.5}small{color:#666}</style></head>
<body><h1>${status} ${t.title} <span lang="zh-HK">${t.zh}</span></h1>
<p>${body}</p><p><small>GovHost</small></p></body></html>
`;
}

/** The page for a host name with no route, naming the host so a typo is easy to spot. */
export function unknownHostDetail(host: string): string {
  return host === ''
    ? 'The request named no host.'
    : `No service is published at ${host}. Check the address and try again.`;
}

export interface PageOptions {
  /** Close the connection after the page (an unread body, a broken request, shutdown). */
  close?: boolean;
  /** The request was HEAD: headers only. */
  headRequest?: boolean;
  /** Further header lines, each ending in CRLF (e.g. `Allow: GET, HEAD\r\n`). */
  extra?: string;
}

/** The whole HTTP/1.1 response for the router's own page for `status`, as one string. */
export function pageResponse(status: number, detail?: string, o: PageOptions = {}): string {
  const html = pageHtml(status, detail);
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    `Content-Type: text/html; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(html)}\r\n` +
    `Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n${o.extra ?? ''}` +
    `${o.close ? 'Connection: close\r\n' : ''}\r\n${o.headRequest ? '' : html}`
  );
}
