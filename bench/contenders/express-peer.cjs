// The peer: what a team would otherwise deploy. A Plaid quickstart-style server, written for
// this benchmark after Plaid's own sample (github.com/plaid/quickstart, node/index.js): Express,
// the official `plaid` SDK (PlaidApi + Configuration, axios underneath), credentials from the
// environment, run unbundled with plain `node`, exactly as the sample runs.
// Kept as the sample does it: no authentication of the caller, a fixed client_user_id, and the
// response pretty-printed to stdout. Left out: dotenv (the benchmark passes the environment
// directly), moment and the sample's other routes (the create-link-token route does not use
// them); both omissions make the peer's start slightly faster, never slower.
// The one change from the sample: basePath comes from PLAID_BASE_URL (the loopback stand-in).
const { Configuration, PlaidApi, PlaidEnvironments } = require('plaid');
const util = require('util');
const express = require('express');

const APP_PORT = process.env.APP_PORT || 8000;
const PLAID_CLIENT_ID = process.env.PLAID_CLIENT_ID;
const PLAID_SECRET = process.env.PLAID_SECRET;
const PLAID_ENV = process.env.PLAID_ENV || 'sandbox';

// PLAID_PRODUCTS is a comma-separated list of products to use when initializing Link.
const PLAID_PRODUCTS = (process.env.PLAID_PRODUCTS || 'transactions').split(',');

// PLAID_COUNTRY_CODES is a comma-separated list of countries for which users
// will be able to select institutions from.
const PLAID_COUNTRY_CODES = (process.env.PLAID_COUNTRY_CODES || 'US').split(',');

// Parameter used for OAuth in Android.
const PLAID_ANDROID_PACKAGE_NAME = process.env.PLAID_ANDROID_PACKAGE_NAME || '';

const configuration = new Configuration({
  basePath: process.env.PLAID_BASE_URL || PlaidEnvironments[PLAID_ENV],
  baseOptions: {
    headers: {
      'PLAID-CLIENT-ID': PLAID_CLIENT_ID,
      'PLAID-SECRET': PLAID_SECRET,
      'Plaid-Version': '2020-09-14',
    },
  },
});

const client = new PlaidApi(configuration);

const app = express();
app.use(express.json());
app.use(express.urlencoded({ extended: true }));

// Create a link token with configs which we can then use to initialize Plaid Link client-side.
app.post('/api/create_link_token', async function (request, response) {
  const configs = {
    user: {
      // This should correspond to a unique id for the current user.
      client_user_id: 'user-id',
    },
    client_name: 'Plaid Quickstart',
    products: PLAID_PRODUCTS,
    country_codes: PLAID_COUNTRY_CODES,
    language: 'en',
  };

  if (PLAID_ANDROID_PACKAGE_NAME !== '') {
    configs.android_package_name = PLAID_ANDROID_PACKAGE_NAME;
  }
  try {
    const createTokenResponse = await client.linkTokenCreate(configs);
    prettyPrintResponse(createTokenResponse);
    response.json(createTokenResponse.data);
  } catch (error) {
    prettyPrintResponse(error.response);
    return response.json(formatError(error.response));
  }
});

app.listen(APP_PORT, process.env.HOST || '127.0.0.1', function () {
  console.log('plaid-quickstart server listening on port ' + APP_PORT);
});

const prettyPrintResponse = (response) => {
  console.log(util.inspect(response.data, { colors: true, depth: 4 }));
};

const formatError = (error) => {
  return {
    error: { ...error.data, status_code: error.status },
  };
};
