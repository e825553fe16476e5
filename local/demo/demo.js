// The demo page's logic, as a production web app would do it:
//  1. dev sign-in on this origin (POST /dev/token; a real app has its identity provider),
//  2. the typed browser client (client/link-token-client.ts, built to /demo/link-token-client.js)
//     asks the endpoint for a link token with the bearer token: cross-origin when ?api=<origin>
//     names another origin, so the browser runs a real CORS preflight,
//  3. Plaid Link opens with the token: Plaid.create({ token, onSuccess, onExit }).open(),
//  4. after a bank's OAuth login Plaid sends the browser to the tenant's redirect_uri, this page at
//     /oauth-return, which resumes Link with the same link token (kept in sessionStorage) and
//     receivedRedirectUri, as Plaid's OAuth flow requires,
//  5. Link's onSuccess hands over a public token: the service exchanges it and keeps the Item
//     (POST /items; a 409 names the user's Item at that bank, so the page offers update mode),
//  6. the user's Items (GET /items) with their status and the action the service suggests, each
//     with "Update" (an update-mode link token for it, then Link; highlighted when the action asks
//     for update mode) and "Remove" (DELETE /items/{item_id}),
//  7. local stack only: "Simulate login required" per Item (POST /dev/simulate/login-required, the
//     Plaid stand-in's /sandbox/item/reset_login by item_id) and the events the service published
//     for verified webhooks (POST /dev/events), refreshed after every action,
//  8. "Run a Hosted Link session": a link token of the tenant's `hosted` profile; with the Plaid
//     stand-in POST /dev/plaid-link/session does what the user does on Plaid's hosted page (Plaid
//     then sends the service the LINK webhooks and the service exchanges the public token itself),
//     with Plaid's sandbox the page links to hosted_link_url; then the list until the new Item shows,
//  9. "Delete my data": DELETE /me, every Item and the Plaid user of the signed-in user; 204 clears the list.
// The page never sees an access token of Plaid's, nor a public token of a hosted session: the service keeps those.
// Query parameters: api=<origin of the endpoint> (default: this origin), user=<dev user id>
// (default dev-user-1),
// plaid_link=plaid|stand-in (default plaid: Plaid's own script from cdn.plaid.com; stand-in: the
// offline stand-in /demo/plaid-link-stand-in.js, which the browser test uses).
import { createServiceClient, isLinkTokenError } from './link-token-client.js';

const PLAID_LINK_SCRIPTS = {
  plaid: 'https://cdn.plaid.com/link/v2/stable/link-initialize.js',
  'stand-in': '/demo/plaid-link-stand-in.js',
};
const SESSION_KEY = 'link-token-demo:session';

const $ = (selector) => document.querySelector(selector);
const status = $('#status');
const result = $('#result');
const signIn = $('#sign-in');
const getToken = $('#get-token');
const refreshItems = $('#refresh-items');
const itemsList = $('#items');
const itemsEmpty = $('#items-empty');
const itemsStatus = $('#items-status');
const refreshEvents = $('#refresh-events');
const eventsList = $('#events');
const eventsStatus = $('#events-status');
const hostedLink = $('#hosted-link');
const hostedStatus = $('#hosted-status');
const hostedPage = $('#hosted-page');
const hostedUrl = $('#hosted-url');
const deleteMe = $('#delete-me');

// The hosted run links a bank the other buttons do not, so its Item is told apart from theirs.
const HOSTED_INSTITUTION = 'ins_109510';
// How long the page waits for the service to have processed the session's webhooks.
const HOSTED_WAIT_MS = 10_000;

const params = new URLSearchParams(location.search);
const isOAuthReturn = location.pathname === '/oauth-return' || params.has('oauth_state_id');
const saved = readSession();
let accessToken;
let conflictItemId; // the user's Item a refused duplicate named (409)

function show(text, tone = '', kind = '') {
  status.textContent = text;
  status.className = tone;
  status.dataset.kind = kind;
}

function showHosted(text, tone = '', kind = '') {
  hostedStatus.textContent = text;
  hostedStatus.className = tone;
  hostedStatus.dataset.kind = kind;
}

function setSignedIn(signedIn) {
  for (const b of [getToken, refreshItems, hostedLink, deleteMe]) b.disabled = !signedIn;
}

function showResult(value) {
  result.hidden = false;
  result.textContent = JSON.stringify(value, null, 2);
}

function readSession() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
  } catch {
    return null;
  }
}

// The link token survives the trip to the bank and back in this tab's session, and nowhere else.
// The access token is never stored: it stays in memory.
const saveSession = (value) => sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
const clearSession = () => sessionStorage.removeItem(SESSION_KEY);

// Which Link script: on the OAuth return the query belongs to the bank's redirect, so the choice
// made before leaving is read back from the session.
const requestedScript = isOAuthReturn ? (saved?.linkScript ?? 'plaid') : (params.get('plaid_link') ?? 'plaid');
const linkScript = Object.hasOwn(PLAID_LINK_SCRIPTS, requestedScript) ? requestedScript : 'plaid';
// On the OAuth return the query is the bank's: the API and user chosen before leaving come back from the session.
let apiBase;
try {
  apiBase = new URL(isOAuthReturn ? (saved?.apiBase ?? location.origin) : (params.get('api') ?? location.origin))
    .origin;
} catch {
  apiBase = location.origin;
}
const endpoint = new URL('/link-token', apiBase).href;
const devUser = (isOAuthReturn ? saved?.user : params.get('user')) || 'dev-user-1';
const service = createServiceClient({ baseUrl: apiBase, getAccessToken: () => accessToken });
$('#page-origin').textContent = location.origin;
$('#endpoint').textContent = endpoint;
$('#link-script').textContent = PLAID_LINK_SCRIPTS[linkScript];

// Plaid asks for its script on every page that opens Link, loaded up front from its CDN.
const plaidReady = new Promise((resolve, reject) => {
  const script = document.createElement('script');
  script.src = PLAID_LINK_SCRIPTS[linkScript];
  script.addEventListener('load', () => (window.Plaid ? resolve(window.Plaid) : reject(new Error('no window.Plaid'))));
  script.addEventListener('error', () => reject(new Error(`could not load ${script.src}`)));
  document.head.append(script);
});
plaidReady.catch(() => {});

async function openLink({ token, receivedRedirectUri, update }) {
  let Plaid;
  try {
    Plaid = await plaidReady;
  } catch (error) {
    show(
      `Got a link token, but Plaid's Link script did not load (${error.message}). Offline? Try ?plaid_link=stand-in.`,
      'error',
      'link-script',
    );
    return;
  }
  const handler = Plaid.create({
    token,
    ...(receivedRedirectUri ? { receivedRedirectUri } : {}),
    onSuccess: (publicToken, metadata) => {
      // This link token is spent.
      clearSession();
      if (update) {
        // Update mode repairs the Item in place: there is nothing to exchange.
        show(`Updated ${update.name ?? update.itemId}: Link finished in update mode.`, 'ok', 'updated');
        return loadItems();
      }
      return exchange(publicToken, metadata);
    },
    onExit: (error) => {
      if (error?.error_code === 'INVALID_LINK_TOKEN') {
        // Expired (4 h), or too many attempts: ask for a new token next time.
        clearSession();
        show('The link token expired or was used up: get a new one.', 'error', 'link-token-invalid');
        return;
      }
      show(
        error
          ? `Link closed: ${error.error_code}. ${error.display_message ?? error.error_message ?? ''}`
          : 'Link closed.',
        error ? 'error' : '',
        'link-exit',
      );
    },
  });
  handler.open();
}

/** The app's server side of onSuccess: the service exchanges the public token and keeps the Item. */
async function exchange(publicToken, metadata) {
  const bank = metadata?.institution?.name ?? 'an account';
  show(`Linking ${bank}…`);
  conflictItemId = undefined;
  try {
    const item = await service.linkItem(publicToken);
    showResult({
      item_id: item.itemId,
      institution: item.institution,
      status: item.status,
      created: item.created,
      correlation_id: item.correlationId,
    });
    show(`Linked ${item.institution.name ?? bank} (Item ${item.itemId}).`, 'ok', 'linked');
  } catch (error) {
    explain(error);
  }
  await loadItems();
}

// The list reports its own failures beside it, so they do not hide the outcome of the last action.
// The events panel follows every change of the list: a webhook may have come in meanwhile.
async function loadItems() {
  if (!accessToken) return;
  void loadEvents();
  try {
    renderItems(await service.listItems());
    itemsStatus.textContent = '';
    itemsStatus.dataset.kind = 'listed';
  } catch (error) {
    itemsStatus.textContent = `Could not list your Items: ${error?.message ?? error}`;
    itemsStatus.dataset.kind = isLinkTokenError(error) ? error.kind : 'unexpected';
  }
}

function renderItems(items) {
  itemsList.replaceChildren(
    ...items.map((item) => {
      const li = document.createElement('li');
      li.dataset.itemId = item.itemId;
      li.dataset.status = item.status;
      const action = item.action ?? 'none';
      li.dataset.action = action;
      if (item.itemId === conflictItemId) li.classList.add('conflict');
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = item.institution.name ?? item.institution.institutionId ?? 'Unknown institution';
      const meta = document.createElement('span');
      meta.className = 'meta';
      meta.textContent = `${item.itemId} · since ${item.createdAt.toISOString().slice(0, 10)}`;
      const state = document.createElement('span');
      state.className = 'state';
      state.textContent = `${item.status} · action: ${action}`;
      const update = button('Update', 'update', () => startUpdate(item));
      // update mode repairs it (login_required, pending_*); with Account Select it adds new accounts.
      if (action === 'update' || action === 'update_with_account_selection') {
        update.classList.add('attention');
        update.title =
          action === 'update'
            ? 'Plaid needs the user in Link: update mode repairs this Item'
            : 'New accounts: update mode with Account Select';
      }
      const simulate = button('Simulate login required', 'simulate-login-required', () => simulateLoginRequired(item));
      const remove = button('Remove', 'remove', () => remove_(item));
      li.append(name, state, meta, update, simulate, remove);
      return li;
    }),
  );
  itemsEmpty.textContent = items.length === 0 ? 'No Items yet: get a link token and link an account.' : '';
  itemsEmpty.hidden = items.length > 0;
}

function button(label, action, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.dataset.action = action;
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

async function startUpdate(item) {
  const name = item.institution.name;
  show(`Requesting an update-mode link token for ${name ?? item.itemId}…`);
  try {
    const token = await service.createLinkToken({ platform: 'web', mode: 'update', itemId: item.itemId });
    const expiration = token.expiration.toISOString();
    showResult({
      link_token: token.linkToken,
      expiration,
      mode: 'update',
      item_id: item.itemId,
      correlation_id: token.correlationId,
    });
    show(`Got an update-mode link token for ${name ?? item.itemId}. Opening Plaid Link…`, 'ok', 'update-link-token');
    await openLink({ token: token.linkToken, update: { itemId: item.itemId, name } });
  } catch (error) {
    explain(error);
  }
}

async function remove_(item) {
  show(`Removing ${item.institution.name ?? item.itemId}…`);
  try {
    await service.removeItem(item.itemId);
    show(`Removed ${item.institution.name ?? item.itemId}.`, 'ok', 'removed');
  } catch (error) {
    explain(error);
  }
  await loadItems();
}

/** Local stack only: the bank stops accepting the Item's login, and Plaid says so by webhook. */
async function simulateLoginRequired(item) {
  const name = item.institution.name ?? item.itemId;
  show(`Simulating a login change at ${name}: Plaid sends the ITEM ERROR webhook…`);
  try {
    const res = await fetch('/dev/simulate/login-required', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ item_id: item.itemId }),
    });
    const answer = await res.json().catch(() => ({}));
    if (!res.ok) {
      show(`Could not simulate it: ${answer.message ?? `HTTP ${res.status}`}`, 'error', 'simulate-failed');
    } else {
      showResult(answer);
      show(
        `${name} now needs the user's login: Plaid sent ${answer.webhook.webhook_type} ${answer.webhook.webhook_code} (${answer.webhook.error_code}), the service answered ${answer.webhook.status}. Use "Update".`,
        'ok',
        'login-required-simulated',
      );
    }
  } catch (error) {
    show(`Could not simulate it: ${error.message}`, 'error', 'simulate-failed');
  }
  await loadItems();
}

/**
 * Hosted Link: the app gets a link token (and hosted_link_url) and never a public token; Plaid tells
 * the service by webhook, and the service adds the Item. So the page looks at its Items until the
 * new one is there.
 */
async function runHostedLink() {
  hostedLink.disabled = true;
  hostedPage.hidden = true;
  showHosted('Requesting a Hosted Link link token…');
  try {
    const before = new Set((await service.listItems()).map((item) => item.itemId));
    const token = await service.createLinkToken({ platform: 'web', profile: 'hosted' });
    showResult({
      link_token: token.linkToken,
      expiration: token.expiration.toISOString(),
      hosted_link_url: token.hostedLinkUrl ?? null,
      profile: 'hosted',
      correlation_id: token.correlationId,
    });
    const res = await fetch('/dev/plaid-link/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ link_token: token.linkToken, institution_ids: [HOSTED_INSTITUTION] }),
    });
    const answer = await res.json().catch(() => ({}));
    if (res.status === 404) {
      // Plaid itself hosts the page: the user links there, Plaid tells the service.
      if (token.hostedLinkUrl) {
        hostedUrl.href = token.hostedLinkUrl;
        hostedPage.hidden = false;
      }
      showHosted(
        'Plaid hosts this session: open its page, link an account there, then press Refresh.',
        '',
        'hosted-page',
      );
      return;
    }
    if (!res.ok) {
      showHosted(`Could not run the session: ${answer.message ?? `HTTP ${res.status}`}`, 'error', 'hosted-failed');
      return;
    }
    hostedStatus.dataset.sessionId = answer.link_session_id;
    const banks = answer.institutions.map((i) => i.name).join(', ');
    const sent =
      answer.webhooks.length === 0
        ? `no webhook (${answer.webhooks_not_sent})`
        : answer.webhooks.map((w) => `${w.webhook_code} → ${w.status ?? w.error ?? 'no answer'}`).join(', ');
    showHosted(
      `Session finished at ${banks}. Plaid sent ${sent}. Waiting for the service to add the Item…`,
      '',
      'hosted-waiting',
    );
    const item = await waitForNewItem(before);
    if (item) {
      showHosted(
        `Linked ${item.institution.name ?? banks} through Hosted Link (Item ${item.itemId}).`,
        'ok',
        'hosted-linked',
      );
    } else {
      showHosted(
        `The session finished at ${banks}, but no new Item after ${HOSTED_WAIT_MS / 1000} s: the service has not added it (Plaid sent ${sent}).`,
        'error',
        'hosted-no-item',
      );
    }
  } catch (error) {
    showHosted(`Hosted Link failed: ${error?.message ?? error}`, 'error', 'hosted-failed');
    explain(error);
  } finally {
    hostedLink.disabled = !accessToken;
    void loadEvents();
  }
}

/** The first Item not in `before`, looking at GET /items twice a second for HOSTED_WAIT_MS. */
async function waitForNewItem(before) {
  const deadline = Date.now() + HOSTED_WAIT_MS;
  for (;;) {
    const items = await service.listItems();
    renderItems(items);
    const fresh = items.find((item) => !before.has(item.itemId));
    if (fresh || Date.now() >= deadline) return fresh;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Erasure: the service removes every Item at Plaid, the Plaid user, then its records; 204 when done. */
async function deleteMyData() {
  deleteMe.disabled = true;
  show('Deleting your data: every Item at Plaid, your Plaid user, then the records…');
  try {
    const res = await fetch(new URL('/me', apiBase), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${accessToken}` },
    });
    if (res.status === 204) {
      itemsList.replaceChildren();
      itemsEmpty.hidden = false;
      itemsEmpty.textContent = 'Your data is deleted: no Items.';
      show('Deleted: your Items and your Plaid user are gone.', 'ok', 'deleted');
      return;
    }
    const problem = await res.json().catch(() => undefined);
    showResult(problem ?? { status: res.status });
    const why = problem?.detail ?? problem?.title ?? `HTTP ${res.status}`;
    const quote = problem?.correlation_id ? ` Quote ${problem.correlation_id} to support.` : '';
    show(`Could not delete your data: ${why}.${quote}`, 'error', 'delete-failed');
  } catch (error) {
    show(`Could not delete your data: ${error?.message ?? error}`, 'error', 'delete-failed');
  } finally {
    deleteMe.disabled = !accessToken;
    void loadEvents();
  }
}

// The local bus's events, as a subscriber would get them: type, Item and event_id only (the
// detail also holds Plaid's body, which carries no token, but the panel has no use for it).
let eventsLoading = Promise.resolve();
function loadEvents() {
  eventsLoading = eventsLoading.then(async () => {
    try {
      const res = await fetch('/dev/events', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      const answer = await res.json().catch(() => ({}));
      if (!res.ok) {
        eventsStatus.textContent = `No events to show: ${answer.message ?? `HTTP ${res.status}`}`;
        eventsStatus.dataset.kind = 'unavailable';
        return;
      }
      const events = Array.isArray(answer.events) ? answer.events : [];
      eventsList.replaceChildren(
        ...events.map((event) => {
          const li = document.createElement('li');
          li.dataset.detailType = event.detail_type;
          li.dataset.itemId = event.detail?.item_id ?? '';
          li.dataset.eventId = event.detail?.event_id ?? '';
          const type = document.createElement('span');
          type.className = 'detail-type';
          type.textContent = event.detail_type;
          // The bus's Time: Unix seconds, as PutEvents takes it.
          const time =
            typeof event.time === 'number' ? new Date(event.time * 1000).toISOString() : String(event.time ?? '');
          li.append(
            type,
            ` · item ${event.detail?.item_id ?? '(none)'} · event ${event.detail?.event_id ?? '(none)'} · ${time}`,
          );
          return li;
        }),
      );
      eventsStatus.textContent =
        events.length === 0
          ? 'No events published yet.'
          : `${events.length} event${events.length === 1 ? '' : 's'} published.`;
      eventsStatus.dataset.kind = 'listed';
      eventsStatus.dataset.count = String(events.length);
    } catch (error) {
      eventsStatus.textContent = `Could not list the events: ${error.message}`;
      eventsStatus.dataset.kind = 'unexpected';
    }
  });
  return eventsLoading;
}

function explain(error) {
  if (!isLinkTokenError(error)) {
    show(`Unexpected error: ${error?.message ?? error}`, 'error', 'unexpected');
    return;
  }
  showResult(error.problem ?? { error: error.name, message: error.message });
  switch (error.kind) {
    case 'sign-in-expired':
      accessToken = undefined;
      setSignedIn(false);
      show(`Your sign-in has expired: sign in again. (${error.message})`, 'error', error.kind);
      break;
    case 'not-allowed':
      show(`Not allowed to link accounts from here: ${error.message}`, 'error', error.kind);
      break;
    case 'try-again-later':
      show(
        `Busy: try again ${error.retryAfterSeconds ? `in ${error.retryAfterSeconds} s` : 'shortly'}. (${error.message})`,
        'error',
        error.kind,
      );
      break;
    case 'network':
      show(error.message, 'error', error.kind);
      break;
    case 'item-conflict': {
      show(`You already linked this bank: use "Update" on it instead. (${error.message})`, 'error', error.kind);
      // Marked on this and every later rendering of the list, until the next link.
      conflictItemId = error.existingItemId;
      for (const li of itemsList.children) li.classList.toggle('conflict', li.dataset.itemId === conflictItemId);
      break;
    }
    case 'item-not-found':
      show(`That Item is gone: ${error.message}`, 'error', error.kind);
      break;
    case 'bad-request':
      show(
        `Request refused: ${error.fieldErrors.map((e) => `${e.field} ${e.message}`).join('; ') || error.message}`,
        'error',
        error.kind,
      );
      break;
    default:
      show(
        `Something went wrong: ${error.message} Quote ${error.correlationId ?? 'the time'} to support.`,
        'error',
        error.kind,
      );
  }
}

async function devSignIn() {
  const res = await fetch('/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub: devUser }),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  ({ access_token: accessToken } = await res.json());
  setSignedIn(true);
  show(`Signed in as ${devUser}.`, 'ok', 'signed-in');
}

signIn.addEventListener('click', async () => {
  try {
    await devSignIn();
  } catch (error) {
    show(`Dev sign-in failed: ${error.message}`, 'error', 'sign-in-failed');
    return;
  }
  await loadItems();
});

refreshItems.addEventListener('click', () => loadItems());
hostedLink.addEventListener('click', () => runHostedLink());
deleteMe.addEventListener('click', () => deleteMyData());
refreshEvents.addEventListener('click', () => loadEvents());
void loadEvents();

getToken.addEventListener('click', async () => {
  getToken.disabled = true;
  show('Requesting a link token…');
  try {
    const token = await service.createLinkToken({ platform: 'web' });
    const expiration = token.expiration.toISOString();
    showResult({ link_token: token.linkToken, expiration, correlation_id: token.correlationId });
    saveSession({ linkToken: token.linkToken, expiration, linkScript, apiBase, user: devUser });
    show(`Got a link token, valid until ${expiration}. Opening Plaid Link…`, 'ok', 'link-token');
    await openLink({ token: token.linkToken });
  } catch (error) {
    explain(error);
  } finally {
    getToken.disabled = !accessToken;
  }
});

if (isOAuthReturn) {
  signIn.disabled = true;
  if (!saved?.linkToken) {
    show(
      'Back from the bank, but this tab has no link token to resume with: start again from the demo page.',
      'error',
      'oauth-no-token',
    );
  } else if (Date.parse(saved.expiration) <= Date.now()) {
    clearSession();
    show(
      'Back from the bank, but the link token has expired: start again from the demo page.',
      'error',
      'oauth-expired',
    );
  } else {
    // A real app's session survives the trip to the bank; here the dev sign-in is simply repeated,
    // so that Link's onSuccess can be exchanged.
    devSignIn()
      .catch((error) => show(`Dev sign-in failed: ${error.message}`, 'error', 'sign-in-failed'))
      .then(() => loadItems())
      .then(() => {
        show('Back from the bank: resuming Plaid Link with the same link token…', '', 'oauth-resume');
        showResult({ link_token: saved.linkToken, expiration: saved.expiration, received_redirect_uri: location.href });
        return openLink({ token: saved.linkToken, receivedRedirectUri: location.href });
      });
  }
}
