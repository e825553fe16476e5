/**
 * Stand-in for Plaid's sandbox POST /link/token/create (API version 2020-09-14).
 * The checks are our own reading of Plaid's documented contract, covering the rules our
 * service can plausibly break; they are not a copy of Plaid's schema.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, isPlainObject, listen, parseJson, randomAlnum, readBody, sendJson } from './http-util.ts';

export const PLAID_API_VERSION = '2020-09-14';
export const DEFAULT_PLAID_CREDENTIALS: Readonly<Record<string, string>> = { 'test-client-id': 'test-sandbox-secret' };

export type PlaidFault =
  | { kind: 'error'; status: number; error_type: string; error_code: string; error_message?: string }
  | { kind: 'network' }
  | { kind: 'delay'; ms: number };

export interface RecordedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or the raw text when the body was not JSON. */
  body: unknown;
}

export interface PlaidStandInOptions {
  port?: number;
  host?: string;
  /** client_id -> secret (default DEFAULT_PLAID_CREDENTIALS). */
  credentials?: Record<string, string>;
}

export interface PlaidStandIn {
  url: string;
  requests: RecordedRequest[];
  readonly calls: number;
  /** Forgets recorded requests and pending faults; credentials are kept. */
  reset(): void;
  /** Sets the secret for clientId; its previous secret then gets INVALID_API_KEYS. */
  setCredentials(clientId: string, secret: string): void;
  /** The next n requests (of any path) get `fault`, queued after any already scheduled. */
  failNext(n: number, fault: PlaidFault): void;
  close(): Promise<void>;
}

const LANGUAGES = new Set(['da', 'nl', 'en', 'et', 'fr', 'de', 'hi', 'it', 'lv', 'lt', 'no', 'pl', 'pt', 'ro', 'es', 'sv', 'vi']);

const COUNTRY_CODES = new Set([
  'US', 'GB', 'ES', 'NL', 'FR', 'IE', 'CA', 'DE', 'IT', 'PL', 'DK', 'NO', 'SE', 'EE', 'LT', 'LV', 'PT', 'BE', 'AT', 'FI',
]);

const PRODUCTS = new Set([
  'assets', 'auth', 'balance', 'balance_plus', 'beacon', 'identity', 'identity_match', 'investments',
  'investments_auth', 'liabilities', 'payment_initiation', 'identity_verification', 'transactions',
  'credit_details', 'income', 'income_verification', 'standing_orders', 'transfer', 'employment',
  'recurring_transactions', 'transactions_refresh', 'signal', 'statements', 'processor_payments',
  'processor_identity', 'profile', 'cra_base_report', 'cra_income_insights', 'cra_partner_insights',
  'cra_network_insights', 'cra_cashflow_insights', 'cra_monitoring', 'cra_lend_score', 'cra_plaid_credit_score',
  'layer', 'pay_by_bank', 'protect_linked_bank', 'protect_transactions',
]);

const PRODUCT_LISTS = ['products', 'required_if_supported_products', 'optional_products', 'additional_consented_products'] as const;

type JsonType = 'string' | 'array' | 'object' | 'boolean';

/** Every top-level field the endpoint accepts, with its JSON type; anything else is UNKNOWN_FIELDS. */
const FIELDS: Record<string, JsonType> = {
  client_id: 'string', secret: 'string', client_name: 'string', language: 'string', user_id: 'string',
  webhook: 'string', access_token: 'string', link_customization_name: 'string', appearance_mode: 'string',
  redirect_uri: 'string', android_package_name: 'string', institution_id: 'string',
  consumer_report_permissible_purpose: 'string', user_token: 'string', third_party_user_token: 'string',
  country_codes: 'array', products: 'array', required_if_supported_products: 'array', optional_products: 'array',
  additional_consented_products: 'array', access_tokens: 'array',
  user: 'object', institution_data: 'object', card_switch: 'object', account_filters: 'object', eu_config: 'object',
  payment_configuration: 'object', payment_initiation: 'object', employment: 'object', income_verification: 'object',
  base_report: 'object', credit_partner_insights: 'object', cra_options: 'object', auth: 'object', transfer: 'object',
  update: 'object', identity_verification: 'object', statements: 'object', investments: 'object',
  investments_auth: 'object', hosted_link: 'object', transactions: 'object', cashflow_report: 'object', identity: 'object',
  cra_enabled: 'boolean', financekit_supported: 'boolean', enable_multi_item_link: 'boolean',
};

const MAX_HOSTED_LINK_LIFETIME_S = 21 * 24 * 3600;
const DEFAULT_EXPIRY_S = 4 * 3600;
const UPDATE_MODE_EXPIRY_S = 30 * 60;
const MAX_BODY = 1024 * 1024;

class PlaidError extends Error {
  status: number;
  error_type: string;
  error_code: string;
  constructor(status: number, error_type: string, error_code: string, message: string) {
    super(message);
    this.status = status;
    this.error_type = error_type;
    this.error_code = error_code;
  }
}

const invalidRequest = (code: string, message: string) => new PlaidError(400, 'INVALID_REQUEST', code, message);
const invalidField = (message: string) => invalidRequest('INVALID_FIELD', message);

export async function startPlaidStandIn(opts: PlaidStandInOptions = {}): Promise<PlaidStandIn> {
  const credentials = new Map(Object.entries(opts.credentials ?? DEFAULT_PLAID_CREDENTIALS));
  const requests: RecordedRequest[] = [];
  let faults: PlaidFault[] = [];

  function send(res: ServerResponse, status: number, body: Record<string, unknown>) {
    sendJson(res, status, { ...body, request_id: requestId() });
  }

  function sendError(res: ServerResponse, err: PlaidError) {
    sendJson(res, err.status, {
      display_message: null,
      documentation_url: `https://plaid.com/docs/?ref=error#${err.error_type.toLowerCase().replaceAll('_', '-')}-errors`,
      error_code: err.error_code,
      error_message: err.message,
      error_type: err.error_type,
      request_id: requestId(),
      causes: [],
      status: err.status,
      suggested_action: null,
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    let raw: Buffer;
    try {
      raw = await readBody(req, MAX_BODY);
    } catch (err) {
      if (!(err instanceof BodyTooLargeError)) throw err;
      requests.push({ path, headers: req.headers, body: undefined });
      res.setHeader('connection', 'close');
      return sendError(res, new PlaidError(413, 'INVALID_REQUEST', 'INVALID_BODY', err.message));
    }
    const parsed = raw.length === 0 ? undefined : parseJson(raw);
    requests.push({ path, headers: req.headers, body: parsed === undefined && raw.length > 0 ? raw.toString('utf8') : parsed });

    const fault = faults.shift();
    if (fault?.kind === 'network') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'delay') await server.sleep(fault.ms);
    if (fault?.kind === 'error') {
      return sendError(
        res,
        new PlaidError(fault.status, fault.error_type, fault.error_code, fault.error_message ?? `injected ${fault.error_code}`),
      );
    }

    try {
      if (req.method !== 'POST' || path !== '/link/token/create') {
        throw new PlaidError(404, 'INVALID_REQUEST', 'NOT_FOUND', 'not found');
      }
      const body = checkEnvelope(req, parsed);
      const now = Math.floor(Date.now() / 1000);
      send(res, 200, linkTokenCreate(body, now));
    } catch (err) {
      if (!(err instanceof PlaidError)) throw err;
      sendError(res, err);
    }
  }

  function checkEnvelope(req: IncomingMessage, body: unknown): Record<string, unknown> {
    const contentType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/json' || !isPlainObject(body)) {
      throw invalidRequest(
        'INVALID_BODY',
        'body could not be parsed as JSON; the request must have Content-Type: application/json and a JSON object body',
      );
    }
    const clientId = header(req.headers['plaid-client-id']) ?? body.client_id;
    const secret = header(req.headers['plaid-secret']) ?? body.secret;
    const missing = Object.entries({ client_id: clientId, secret })
      .filter(([, v]) => typeof v !== 'string' || v === '')
      .map(([k]) => k);
    if (missing.length > 0) {
      throw invalidRequest('MISSING_FIELDS', `the following required fields are missing: ${missing.join(', ')}`);
    }
    if (credentials.get(clientId as string) !== secret) {
      throw new PlaidError(400, 'INVALID_INPUT', 'INVALID_API_KEYS', 'invalid client_id or secret provided');
    }
    const version = header(req.headers['plaid-version']);
    if (version !== undefined && version !== PLAID_API_VERSION) {
      throw invalidRequest('INVALID_HEADERS', `invalid Plaid-Version header "${version}": this server supports ${PLAID_API_VERSION}`);
    }
    return body;
  }

  const server = await listen(handle, opts);
  return {
    url: server.url,
    requests,
    get calls() {
      return requests.length;
    },
    reset() {
      requests.length = 0;
      faults = [];
    },
    setCredentials(clientId, secret) {
      credentials.set(clientId, secret);
    },
    failNext(n, fault) {
      for (let i = 0; i < n; i++) faults.push(fault);
    },
    close: () => server.close(),
  };
}

function linkTokenCreate(body: Record<string, unknown>, now: number): Record<string, unknown> {
  validateLinkTokenCreate(body);
  const hostedLink = body.hosted_link;
  const lifetime = isPlainObject(hostedLink) && typeof hostedLink.url_lifetime_seconds === 'number'
    ? hostedLink.url_lifetime_seconds
    : isUpdateMode(body) ? UPDATE_MODE_EXPIRY_S : DEFAULT_EXPIRY_S;
  return {
    link_token: `link-sandbox-${randomUUID()}`,
    expiration: new Date((now + lifetime) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...(isPlainObject(hostedLink) && { hosted_link_url: `https://secure.plaid.com/hl/${randomAlnum(32)}` }),
    ...(typeof body.user_id === 'string' && { user_id: body.user_id }),
  };
}

/** Throws the PlaidError the sandbox would answer for the first broken rule. */
export function validateLinkTokenCreate(input: Record<string, unknown>): void {
  // Plaid decodes null as "not given", so treat it that way throughout.
  const body = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null));

  const unknown = Object.keys(body).filter((k) => !Object.hasOwn(FIELDS, k));
  if (unknown.length > 0) {
    throw invalidRequest('UNKNOWN_FIELDS', `the following fields are not recognized by this endpoint: ${unknown.join(', ')}`);
  }

  const missing = ['client_name', 'language', 'country_codes'].filter((k) => body[k] === undefined);
  if (body.user === undefined && body.user_id === undefined) missing.push('user');
  else if (isPlainObject(body.user) && body.user.client_user_id === undefined && body.user_id === undefined) {
    missing.push('user.client_user_id');
  }
  if (body.products === undefined && !isUpdateMode(body)) missing.push('products');
  if (hasProduct(body, 'statements') && body.statements === undefined) missing.push('statements');
  // The seed: each of these objects "is required if <product> is included in the products array".
  for (const product of ['payment_initiation', 'employment', 'income_verification', 'identity_verification']) {
    if (hasProduct(body, product) && body[product] === undefined) missing.push(product);
  }
  if (missing.length > 0) {
    throw invalidRequest('MISSING_FIELDS', `the following required fields are missing: ${missing.join(', ')}`);
  }

  for (const [key, value] of Object.entries(body)) {
    const expected = FIELDS[key];
    if (expected && jsonType(value) !== expected) throw invalidField(`${key} must be of type ${expected}`);
  }

  if (body.client_name === '') throw invalidField('client_name must be a non-empty string');
  if (!LANGUAGES.has(body.language as string)) {
    throw invalidField(`language must be one of: ${[...LANGUAGES].join(', ')}`);
  }

  const countries = body.country_codes as unknown[];
  if (countries.length === 0) throw invalidField('country_codes must contain at least one country code');
  const badCountry = countries.find((c) => !COUNTRY_CODES.has(c as string));
  if (badCountry !== undefined) throw invalidField(`country_codes contains an unsupported country code: ${JSON.stringify(badCountry)}`);

  if (isPlainObject(body.user)) {
    const id = body.user.client_user_id;
    if (id !== undefined && (typeof id !== 'string' || id.trim() === '')) {
      throw invalidField('user.client_user_id must be a non-empty string');
    }
  }

  for (const list of PRODUCT_LISTS) {
    const values = body[list] as unknown[] | undefined;
    if (values === undefined) continue;
    const bad = values.find((p) => !PRODUCTS.has(p as string));
    if (bad !== undefined) throw invalidField(`${list} contains an unknown product: ${JSON.stringify(bad)}`);
    // The docs single these two lists out: balance is initialised implicitly.
    if ((list === 'products' || list === 'additional_consented_products') && values.includes('balance')) {
      throw invalidField(`balance is not a valid value in ${list}; the Balance product is initialized automatically`);
    }
  }
  if (Array.isArray(body.products) && body.products.length === 0 && !isUpdateMode(body)) {
    throw invalidField('products must contain at least one product');
  }
  for (let i = 0; i < PRODUCT_LISTS.length; i++) {
    for (let j = i + 1; j < PRODUCT_LISTS.length; j++) {
      const a = PRODUCT_LISTS[i] as string;
      const b = PRODUCT_LISTS[j] as string;
      const overlap = ((body[a] as unknown[] | undefined) ?? []).filter((p) => ((body[b] as unknown[] | undefined) ?? []).includes(p));
      if (overlap.length > 0) throw invalidField(`${a} and ${b} must not overlap; both contain: ${overlap.join(', ')}`);
    }
  }

  if (typeof body.webhook === 'string' && !URL.canParse(body.webhook)) throw invalidField('webhook must be a valid URL');
  if (typeof body.redirect_uri === 'string') {
    const uri = URL.canParse(body.redirect_uri) ? new URL(body.redirect_uri) : undefined;
    if (!uri) throw invalidField('redirect_uri must be a valid URI');
    if (uri.search !== '' || body.redirect_uri.includes('?')) throw invalidField('redirect_uri must not contain query parameters');
  }
  if (body.redirect_uri !== undefined && body.android_package_name !== undefined) {
    throw invalidField('android_package_name and redirect_uri cannot both be set; use android_package_name on Android and redirect_uri elsewhere');
  }

  if (isPlainObject(body.transactions) && body.transactions.days_requested !== undefined) {
    const days = body.transactions.days_requested;
    if (!Number.isInteger(days) || (days as number) < 1 || (days as number) > 730) {
      throw invalidField('transactions.days_requested must be an integer between 1 and 730');
    }
  }

  if (isPlainObject(body.hosted_link)) {
    const { url_lifetime_seconds: lifetime, delivery_method: delivery } = body.hosted_link;
    if (lifetime !== undefined && lifetime !== null
      && (!Number.isInteger(lifetime) || (lifetime as number) <= 0 || (lifetime as number) > MAX_HOSTED_LINK_LIFETIME_S)) {
      throw invalidField(`hosted_link.url_lifetime_seconds must be a positive integer no greater than ${MAX_HOSTED_LINK_LIFETIME_S} (21 days)`);
    }
    if (delivery !== undefined && delivery !== null && delivery !== 'sms' && delivery !== 'email') {
      throw invalidField('hosted_link.delivery_method must be one of: sms, email');
    }
  }

  if (isPlainObject(body.statements)) {
    const { start_date: start, end_date: end } = body.statements;
    if (start === undefined || end === undefined) {
      throw invalidRequest('MISSING_FIELDS', 'the following required fields are missing: statements.start_date, statements.end_date');
    }
    if (!isIsoDate(start) || !isIsoDate(end)) throw invalidField('statements.start_date and statements.end_date must be dates in YYYY-MM-DD format');
    if (start > end) throw invalidField('statements.start_date must not be after statements.end_date');
    // "You can request up to two years of data."
    const limit = new Date(`${start}T00:00:00Z`);
    limit.setUTCFullYear(limit.getUTCFullYear() + 2);
    if (end > limit.toISOString().slice(0, 10)) throw invalidField('statements.end_date must be at most two years after statements.start_date');
  }

  validateProductOptions(body, countries);
}

const US_ONLY_AUTH_FLAGS = [
  'instant_match_enabled', 'instant_microdeposits_enabled', 'same_day_microdeposits_enabled',
  'automated_microdeposits_enabled', 'database_match_enabled', 'database_insights_enabled',
];

const ACCOUNT_SUBTYPES: Record<string, ReadonlySet<string>> = {
  depository: new Set(['checking', 'savings', 'hsa', 'cd', 'money market', 'paypal', 'prepaid', 'cash management', 'ebt', 'limited purpose checking', 'all']),
  credit: new Set(['credit card', 'paypal', 'all']),
  loan: new Set(['auto', 'business', 'commercial', 'construction', 'consumer', 'home equity', 'loan', 'mortgage', 'overdraft', 'line of credit', 'student', 'other', 'all']),
  investment: new Set([
    '529', '401a', '401k', '403B', '457b', 'brokerage', 'cash isa', 'crypto exchange', 'education savings account', 'fhsa',
    'fixed annuity', 'gic', 'health reimbursement arrangement', 'hsa', 'ira', 'isa', 'keogh', 'lif', 'life insurance',
    'line of credit', 'lira', 'lrif', 'lrsp', 'mutual fund', 'non-custodial wallet', 'non-taxable brokerage account', 'other',
    'other annuity', 'other insurance', 'pension', 'prif', 'profit sharing plan', 'qshr', 'rdsp', 'resp', 'retirement', 'rlif',
    'roth', 'roth 401k', 'roth 403B', 'roth 457b', 'roth pension', 'roth profit sharing plan', 'roth thrift savings plan', 'rrif',
    'rrsp', 'sarsep', 'sep ira', 'simple ira', 'sipp', 'stock plan', 'thrift savings plan', 'tfsa', 'trust', 'ugma', 'utma',
    'variable annuity', 'all',
  ]),
  other: new Set(['other', 'all']),
};

/** The seed's rules for the product option objects, countries and filters. */
function validateProductOptions(body: Record<string, unknown>, countries: unknown[]): void {
  // "If launching Link with CRA products, cra_base_reports is required and must be included in the products array."
  const listed = PRODUCT_LISTS.flatMap((list) => (Array.isArray(body[list]) ? (body[list] as unknown[]) : []));
  if (listed.some((p) => typeof p === 'string' && p.startsWith('cra_')) && !(body.products as unknown[] | undefined)?.includes('cra_base_report')) {
    throw invalidField('products must include cra_base_report when launching Link with CRA products');
  }
  if (isPlainObject(body.cra_options)) {
    const days = body.cra_options.days_requested;
    if (days === undefined) throw invalidRequest('MISSING_FIELDS', 'the following required fields are missing: cra_options.days_requested');
    // "Maximum is 731; minimum is 180. If a value lower than 180 is provided, a minimum of 180 days of history will be requested."
    if (!Number.isInteger(days) || (days as number) > 731) throw invalidField('cra_options.days_requested must be an integer no greater than 731');
  }

  // "If using the Auth features Instant Match, Instant Micro-deposits, Same-day Micro-deposits,
  // Automated Micro-deposits, or Database Auth, country_codes must be set to ['US']."
  if (isPlainObject(body.auth)) {
    const auth = body.auth;
    const usOnly = US_ONLY_AUTH_FLAGS.filter((flag) => auth[flag] === true);
    if (usOnly.length > 0 && !(countries.length === 1 && countries[0] === 'US')) {
      throw invalidField(`country_codes must be ['US'] when using ${usOnly.map((flag) => `auth.${flag}`).join(', ')}`);
    }
  }

  if (isPlainObject(body.hosted_link) && isPlainObject(body.user)) {
    const delivery = body.hosted_link.delivery_method;
    if (delivery === 'sms' && body.user.phone_number === undefined) {
      throw invalidRequest('MISSING_FIELDS', 'the following required fields are missing: user.phone_number (hosted_link.delivery_method sms)');
    }
    if (delivery === 'email' && body.user.email_address === undefined) {
      throw invalidRequest('MISSING_FIELDS', 'the following required fields are missing: user.email_address (hosted_link.delivery_method email)');
    }
  }

  if (isPlainObject(body.payment_initiation) && body.payment_initiation.payment_id === undefined && body.payment_initiation.consent_id === undefined) {
    throw invalidRequest('MISSING_FIELDS', 'payment_initiation requires either payment_id or consent_id');
  }
  if (isPlainObject(body.payment_configuration)) {
    const { amount, description } = body.payment_configuration;
    if (typeof amount !== 'string' || !/^\d+\.\d{2}$/.test(amount)) {
      throw invalidField('payment_configuration.amount must be a decimal string with two digits of precision, e.g. "10.00"');
    }
    if (description !== undefined && (typeof description !== 'string' || description.length > 256)) {
      throw invalidField('payment_configuration.description must be a string of at most 256 characters');
    }
  }
  for (const [object, sources, bank] of [
    ['employment', 'employment_source_types', 'bank_employment'],
    ['income_verification', 'income_source_types', 'bank_income'],
  ] as const) {
    const options = body[object];
    if (!isPlainObject(options)) continue;
    const types = options[sources];
    // "Currently you can only specify one of these options."
    if (Array.isArray(types) && types.length > 1) throw invalidField(`${object}.${sources} may contain only one source type`);
    if (Array.isArray(types) && types.includes('bank') && options[bank] === undefined) {
      throw invalidRequest('MISSING_FIELDS', `the following required fields are missing: ${object}.${bank}`);
    }
  }
  if (isPlainObject(body.identity_verification) && typeof body.identity_verification.template_id !== 'string') {
    throw invalidRequest('MISSING_FIELDS', 'the following required fields are missing: identity_verification.template_id');
  }

  if (isPlainObject(body.account_filters)) {
    for (const [type, filter] of Object.entries(body.account_filters)) {
      const allowed = ACCOUNT_SUBTYPES[type];
      if (!allowed) throw invalidField(`account_filters.${type} is not an account type`);
      const subtypes = isPlainObject(filter) ? filter.account_subtypes : undefined;
      if (!Array.isArray(subtypes)) throw invalidField(`account_filters.${type}.account_subtypes must be an array`);
      const bad = subtypes.find((subtype) => !allowed.has(subtype as string));
      if (bad !== undefined) throw invalidField(`account_filters.${type}.account_subtypes contains an invalid subtype: ${JSON.stringify(bad)}`);
    }
  }
}

function isUpdateMode(body: Record<string, unknown>): boolean {
  return typeof body.access_token === 'string'
    || Array.isArray(body.access_tokens)
    || (isPlainObject(body.update) && body.update.user === true);
}

/** Whether Link would initialise `product`; additional_consented_products only collects consent. */
function hasProduct(body: Record<string, unknown>, product: string): boolean {
  return PRODUCT_LISTS.filter((l) => l !== 'additional_consented_products').some((list) => Array.isArray(body[list]) && (body[list] as unknown[]).includes(product));
}

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v;
}

function isIsoDate(v: unknown): v is string {
  return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`))
    && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v);
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function requestId(): string {
  return randomAlnum(15);
}
