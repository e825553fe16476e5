// The AWS SDK's default credential chain, as the function bundle sees it: the environment only.
// Lambda always hands the execution role's credentials to the function in AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. The full chain (@aws-sdk/credential-provider-node)
// would also bundle the SSO, shared-file, process, web-identity and container/IMDS providers and
// the STS and SSO clients they use, none of which can apply inside Lambda, and all of which the
// bundle would carry and load at cold start. The bundle aliases that package to this file
// (infra/lambda-bundling.ts); code run unbundled (the client-user-id CLI, tests) keeps the full
// chain. Without the variables a read fails with the SDK's CredentialsProviderError, which the
// secrets reader maps to a 503 and logs by name.
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]) => fromEnv(init);
