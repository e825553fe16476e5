// The demo page's logic: dev sign-in on this origin, then POST /link-token with the bearer
// token, exactly as a production web app would call the deployed endpoint.
const endpoint = new URL('/link-token', new URLSearchParams(location.search).get('api') ?? location.origin).href;
const status = document.querySelector('#status');
const result = document.querySelector('#result');
const getToken = document.querySelector('#get-token');
let accessToken;

function show(text, isError = false) {
  status.textContent = text;
  status.className = isError ? 'error' : '';
}

document.querySelector('#sign-in').addEventListener('click', async () => {
  const res = await fetch('/dev/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  ({ access_token: accessToken } = await res.json());
  getToken.disabled = false;
  show('Signed in as dev-user-1.');
});

getToken.addEventListener('click', async () => {
  show('Requesting a link token…');
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ platform: 'web' }),
  });
  const body = await res.json();
  result.hidden = false;
  result.textContent = JSON.stringify(body, null, 2);
  if (!res.ok) return show(`${body.title}: ${body.detail}`, true);
  show(`Got a link token, valid until ${body.expiration}.`);
  sessionStorage.setItem('link_token', body.link_token);
  if (window.Plaid) window.Plaid.create({ token: body.link_token, onSuccess: () => show('Linked.'), onExit: () => show('Link closed.') }).open();
});
