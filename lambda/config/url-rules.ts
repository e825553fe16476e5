// One place that decides which URLs the service may talk to or hand to Plaid. Plain http is
// accepted only for loopback hosts, which exist for local runs and tests; everything that
// leaves the machine must be https.

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Parses `value` and returns why it is not an acceptable https (or loopback http) URL, or undefined. */
export function urlProblem(value: string, opts: { allowLoopbackHttp: boolean }): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username || url.password) return 'must not carry credentials';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) {
    return opts.allowLoopbackHttp ? undefined : 'must be https (http is accepted only for loopback hosts in sandbox)';
  }
  return 'must be https (http is accepted only for loopback hosts)';
}
