// An offline stand-in for Plaid's Link script (https://cdn.plaid.com/link/v2/stable/link-initialize.js),
// loaded by the demo page with ?plaid_link=stand-in, as the browser test does. It offers the same
// entry point, window.Plaid.create({ token, onSuccess, onExit, onEvent, onLoad, receivedRedirectUri })
// returning { open, exit, submit, destroy }, records every call in window.PlaidLinkStandIn.calls
// (kept in sessionStorage, so the record survives the OAuth redirect) and draws a small panel whose
// buttons do what the real Link would:
//   "Continue with an OAuth bank"  leaves for the "bank", which sends the browser back to the
//                                  redirect URI with ?oauth_state_id=… (here <page origin>/oauth-return,
//                                  the demo tenant's redirect_uri; the real Link knows it from the token)
//   "Link an account"              onSuccess(public_token, metadata) for First Platypus Bank
//   "Link another bank"            the same for First Gingham Credit Union
//   "Exit"                         onExit(null, metadata)
// The public token is a real one: the local server's dev-only POST /dev/plaid-link/success gets
// it from the Plaid stand-in's /sandbox/public_token/create for this link token's session, so the
// app's server can exchange it; for an update-mode token the Item is repaired instead and the
// public token is that same Item's, as Plaid's is (the app need not exchange it).
// It is not Plaid's code and checks only what a caller can get wrong from the page's side.
(() => {
  const STORE = 'plaid-link-stand-in:calls';
  const calls = JSON.parse(sessionStorage.getItem(STORE) ?? '[]');
  const uuid = () => crypto.randomUUID();

  function record(entry) {
    calls.push({ at: new Date().toISOString(), page: location.pathname + location.search, ...entry });
    sessionStorage.setItem(STORE, JSON.stringify(calls));
  }

  function create(config) {
    if (!config || typeof config.token !== 'string' || !config.token.startsWith('link-')) {
      throw new TypeError('Plaid.create needs { token } with a link token (link-…)');
    }
    if (typeof config.onSuccess !== 'function') throw new TypeError('Plaid.create needs an onSuccess callback');
    const linkSessionId = uuid();
    record({
      call: 'create',
      token: config.token,
      receivedRedirectUri: config.receivedRedirectUri ?? null,
      callbacks: ['onSuccess', 'onExit', 'onEvent', 'onLoad'].filter((name) => typeof config[name] === 'function'),
      config_keys: Object.keys(config).sort(),
    });
    const metadata = (extra = {}) => ({
      link_session_id: linkSessionId,
      request_id: uuid(),
      institution: null,
      status: null,
      ...extra,
    });
    const event = (name, extra = {}) =>
      config.onEvent?.(name, { link_session_id: linkSessionId, timestamp: new Date().toISOString(), ...extra });
    let panel;
    const close = () => {
      panel?.remove();
      panel = undefined;
    };
    setTimeout(() => config.onLoad?.(), 0);

    async function finish(institutionId) {
      close();
      let answer;
      try {
        const res = await fetch('/dev/plaid-link/success', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ link_token: config.token, institution_id: institutionId }),
        });
        answer = await res.json();
        if (!res.ok) throw new Error(answer?.message ?? `HTTP ${res.status}`);
      } catch (error) {
        // As Link does when it cannot finish: onExit with an error.
        record({ call: 'onExit', token: config.token, error: String(error?.message ?? error) });
        config.onExit?.(
          {
            error_type: 'API_ERROR',
            error_code: 'INTERNAL_SERVER_ERROR',
            error_message: String(error?.message ?? error),
            display_message: null,
          },
          metadata(),
        );
        return;
      }
      record({ call: 'onSuccess', token: config.token, institution_id: answer.institution.institution_id });
      event('HANDOFF');
      config.onSuccess(answer.public_token, {
        institution: { name: answer.institution.name, institution_id: answer.institution.institution_id },
        accounts: [
          {
            id: uuid(),
            name: 'Plaid Checking',
            mask: '0000',
            type: 'depository',
            subtype: 'checking',
            verification_status: null,
          },
        ],
        link_session_id: linkSessionId,
        transfer_status: null,
      });
    }

    const actions = {
      oauth: () => {
        record({ call: 'oauth-redirect', token: config.token });
        event('OPEN_OAUTH');
        location.assign(`${location.origin}/oauth-return?oauth_state_id=${uuid()}`);
      },
      success: () => finish('ins_109508'),
      'success-other': () => finish('ins_109509'),
      exit: () => {
        close();
        record({ call: 'onExit', token: config.token });
        event('EXIT');
        config.onExit?.(null, metadata());
      },
    };

    return {
      open() {
        record({ call: 'open', token: config.token });
        event('OPEN');
        close();
        panel = document.createElement('section');
        panel.className = 'plaid-stand-in';
        panel.setAttribute('role', 'dialog');
        panel.setAttribute('aria-label', 'Plaid Link (stand-in)');
        const title = document.createElement('h2');
        title.textContent = config.receivedRedirectUri
          ? 'Plaid Link (stand-in): back from the bank'
          : 'Plaid Link (stand-in)';
        const text = document.createElement('p');
        text.textContent = `Opened with ${config.token}`;
        panel.append(title, text);
        const buttons = config.receivedRedirectUri
          ? [
              ['success', 'Finish linking'],
              ['exit', 'Exit'],
            ]
          : [
              ['oauth', 'Continue with an OAuth bank'],
              ['success', 'Link an account'],
              ['success-other', 'Link another bank'],
              ['exit', 'Exit'],
            ];
        for (const [action, label] of buttons) {
          const button = document.createElement('button');
          button.type = 'button';
          button.dataset.standIn = action;
          button.textContent = label;
          button.addEventListener('click', actions[action]);
          panel.append(button);
        }
        document.body.append(panel);
      },
      exit(_options, callback) {
        actions.exit();
        callback?.();
      },
      submit() {},
      destroy() {
        record({ call: 'destroy', token: config.token });
        close();
      },
    };
  }

  window.Plaid = { create, version: 'stand-in' };
  window.PlaidLinkStandIn = {
    calls,
    reset() {
      calls.length = 0;
      sessionStorage.removeItem(STORE);
    },
  };
})();
