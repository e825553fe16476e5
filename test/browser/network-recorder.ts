// Records what the browser itself put on the wire, through the Chrome DevTools Protocol: every
// request with the headers Chromium really sent (CORS preflights included, which Playwright's own
// request events do not report), the response status and headers it got, and why a load failed
// (Chromium's CORS verdict). Header names are lowercased.
import type { CDPSession, Page } from 'playwright-core';

export interface WireExchange {
  readonly requestId: string;
  method?: string;
  url?: string;
  /** CDP resource type: 'Preflight' or 'Other' for a CORS preflight, 'Fetch', 'Document', 'Script'... */
  type?: string;
  /** As sent on the wire when Chromium reported that (onWire), else as the page asked for them. */
  requestHeaders: Record<string, string>;
  /** Whether Chromium reported the request's raw headers, i.e. it really went out. */
  onWire: boolean;
  status?: number;
  responseHeaders: Record<string, string>;
  failed?: { errorText: string; corsError?: string; corsErrorParameter?: string };
  /** The request body the page sent (fetch/XHR), when it had one. */
  requestBody?: string;
  /** The response body as the browser received it (text; base64 for binary), once loading finished. */
  body?: string;
}

export interface NetworkRecorder {
  readonly exchanges: WireExchange[];
  /** Exchanges for a URL (exact match, query included), in the order the browser started them. */
  to(url: string, method?: string): WireExchange[];
  /** Waits until every finished response's body has been read (see WireExchange.body). */
  settled(): Promise<void>;
  detach(): Promise<void>;
}

const lower = (headers: Record<string, unknown> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]));

export async function recordNetwork(page: Page): Promise<NetworkRecorder> {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  const byId = new Map<string, WireExchange>();
  const order: WireExchange[] = [];
  const get = (requestId: string): WireExchange => {
    let exchange = byId.get(requestId);
    if (!exchange) {
      exchange = { requestId, requestHeaders: {}, onWire: false, responseHeaders: {} };
      byId.set(requestId, exchange);
      order.push(exchange);
    }
    return exchange;
  };

  cdp.on('Network.requestWillBeSent', (e) => {
    const x = get(e.requestId);
    x.method = e.request.method;
    x.url = e.request.url;
    x.type = e.type;
    if (e.request.postData !== undefined) x.requestBody = e.request.postData;
    // The page's view of the headers; the ExtraInfo event, when it comes, has the ones sent.
    if (!x.onWire) x.requestHeaders = lower(e.request.headers);
  });
  cdp.on('Network.requestWillBeSentExtraInfo', (e) => {
    const x = get(e.requestId);
    x.onWire = true;
    x.requestHeaders = lower(e.headers);
  });
  const wireResponse = new Set<string>();
  cdp.on('Network.responseReceived', (e) => {
    const x = get(e.requestId);
    if (wireResponse.has(e.requestId)) return;
    x.status = e.response.status;
    x.responseHeaders = lower(e.response.headers);
  });
  cdp.on('Network.responseReceivedExtraInfo', (e) => {
    const x = get(e.requestId);
    wireResponse.add(e.requestId);
    x.status = e.statusCode;
    x.responseHeaders = lower(e.headers);
  });
  cdp.on('Network.loadingFailed', (e) => {
    const x = get(e.requestId);
    x.failed = {
      errorText: e.errorText,
      ...(e.corsErrorStatus
        ? { corsError: e.corsErrorStatus.corsError, corsErrorParameter: e.corsErrorStatus.failedParameter }
        : {}),
    };
  });
  const bodyReads: Promise<void>[] = [];
  cdp.on('Network.loadingFinished', (e) => {
    const x = get(e.requestId);
    bodyReads.push(
      cdp.send('Network.getResponseBody', { requestId: e.requestId }).then(
        (r) => {
          x.body = r.body;
        },
        // Preflights and redirects have no body to read.
        () => undefined,
      ),
    );
  });
  await cdp.send('Network.enable');

  return {
    exchanges: order,
    to: (url, method) => order.filter((x) => x.url === url && (method === undefined || x.method === method)),
    settled: async () => {
      await Promise.all(bodyReads);
    },
    detach: () => cdp.detach().catch(() => undefined),
  };
}

/** The headers as a short, readable block, with credentials shortened. */
export function formatHeaders(headers: Record<string, string>): string {
  return Object.entries(headers)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([name, value]) =>
        `    ${name}: ${name === 'authorization' ? value.replace(/^(Bearer [\w-]{8})[\w.-]+$/, '$1…(JWT, shortened)') : value}`,
    )
    .join('\n');
}
