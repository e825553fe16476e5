// The demo page's logic, as a production web app would do it:
//  1. dev sign-in on this origin (POST /dev/token; a real app has its identity provider),
//  2. the typed browser client (client/link-token-client.ts, built to /demo/link-token-client.js)
//     asks the endpoint for a link token with the bearer token: cross-origin when ?api=<origin>
//     names another origin, so the browser runs a real CORS preflight,
//  3. Plaid Link opens with the token: Plaid.create({ token, onSuccess, onExit }).open(),
//  4. after a bank's OAuth login Plaid sends the browser to the tenant's redirect_uri, this page at
//     /oauth-return, which resumes Link with the same link token (kept in sessionStorage) and
//     receivedRedirectUri, as Plaid's OAuth flow requires.
// Query parameters: api=<origin of the endpoint> (default: this origin),
// plaid_link=plaid|stand-in (default plaid: Plaid's own script from cdn.plaid.com; stand-in: the
// offline stand-in /demo/plaid-link-stand-in.js, which the browser test uses).
import { createLinkToken, isLinkTokenError } from './link-token-client.js';

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

const params = new URLSearchParams(location.search);
const isOAuthReturn = location.pathname === '/oauth-return' || params.has('oauth_state_id');
const saved = readSession();
let accessToken;

function show(text, tone = '', kind = '') {
  status.textContent = text;
  status.className = tone;
  status.dataset.kind = kind;
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
const requestedScript = isOAuthReturn ? saved?.linkScript ?? 'plaid' : params.get('plaid_link') ?? 'plaid';
const linkScript = Object.hasOwn(PLAID_LINK_SCRIPTS, requestedScript) ? requestedScript : 'plaid';
let endpoint;
try {
  endpoint = new URL('/link-token', params.get('api') ?? location.origin).href;
} catch {
  endpoint = new URL('/link-token', location.origin).href;
}

$('#page-origin').textContent = location.origin;
$('#endpoint').textContent = isOAuthReturn ? '(not needed to resume Link)' : endpoint;
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

async function openLink({ token, receivedRedirectUri }) {
  let Plaid;
  try {
    Plaid = await plaidReady;
  } catch (error) {
    show(`Got a link token, but Plaid's Link script did not load (${error.message}). Offline? Try ?plaid_link=stand-in.`, 'error', 'link-script');
    return;
  }
  const handler = Plaid.create({
    token,
    ...(receivedRedirectUri ? { receivedRedirectUri } : {}),
    onSuccess: (publicToken, metadata) => {
      // This link token is spent; the app's server now exchanges the public token.
      clearSession();
      showResult({ public_token: publicToken, institution: metadata?.institution ?? null, link_session_id: metadata?.link_session_id ?? null });
      show(`Linked ${metadata?.institution?.name ?? 'an account'}. The app's server would now exchange the public token.`, 'ok', 'linked');
    },
    onExit: (error) => {
      if (error?.error_code === 'INVALID_LINK_TOKEN') {
        // Expired (4 h), or too many attempts: ask for a new token next time.
        clearSession();
        show('The link token expired or was used up: get a new one.', 'error', 'link-token-invalid');
        return;
      }
      show(error ? `Link closed: ${error.error_code}. ${error.display_message ?? error.error_message ?? ''}` : 'Link closed.', error ? 'error' : '', 'link-exit');
    },
  });
  handler.open();
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
      getToken.disabled = true;
      show(`Your sign-in has expired: sign in again. (${error.message})`, 'error', error.kind);
      break;
    case 'not-allowed':
      show(`Not allowed to link accounts from here: ${error.message}`, 'error', error.kind);
      break;
    case 'try-again-later':
      show(`Busy: try again ${error.retryAfterSeconds ? `in ${error.retryAfterSeconds} s` : 'shortly'}. (${error.message})`, 'error', error.kind);
      break;
    case 'network':
      show(error.message, 'error', error.kind);
      break;
    case 'bad-request':
      show(`Request refused: ${error.fieldErrors.map((e) => `${e.field} ${e.message}`).join('; ') || error.message}`, 'error', error.kind);
      break;
    default:
      show(`Something went wrong: ${error.message} Quote ${error.correlationId ?? 'the time'} to support.`, 'error', error.kind);
  }
}

signIn.addEventListener('click', async () => {
  try {
    const res = await fetch('/dev/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    ({ access_token: accessToken } = await res.json());
    getToken.disabled = false;
    show('Signed in as dev-user-1.', 'ok', 'signed-in');
  } catch (error) {
    show(`Dev sign-in failed: ${error.message}`, 'error', 'sign-in-failed');
  }
});

getToken.addEventListener('click', async () => {
  getToken.disabled = true;
  show('Requesting a link token…');
  try {
    const token = await createLinkToken({ endpoint, getAccessToken: () => accessToken, platform: 'web' });
    const expiration = token.expiration.toISOString();
    showResult({ link_token: token.linkToken, expiration, correlation_id: token.correlationId });
    saveSession({ linkToken: token.linkToken, expiration, linkScript });
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
    show('Back from the bank, but this tab has no link token to resume with: start again from the demo page.', 'error', 'oauth-no-token');
  } else if (Date.parse(saved.expiration) <= Date.now()) {
    clearSession();
    show('Back from the bank, but the link token has expired: start again from the demo page.', 'error', 'oauth-expired');
  } else {
    show('Back from the bank: resuming Plaid Link with the same link token…', '', 'oauth-resume');
    showResult({ link_token: saved.linkToken, expiration: saved.expiration, received_redirect_uri: location.href });
    openLink({ token: saved.linkToken, receivedRedirectUri: location.href });
  }
}
