// node:http, loaded through require instead of as an ES module. Importing node:http as an ES
// module makes Node build its module namespace, which evaluates every lazy export (undici among
// them) at cold start; require hands back the exports object and leaves them unevaluated. The
// bundle aliases every `node:http` / `http` import (ours, middy's, the AWS SDK's dynamic one) to
// this file (infra/lambda-bundling.ts); a name the bundle imports but this file does not export
// fails the build, never the running function.
import { createRequire } from 'node:module';

const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');

export default http;
export const {
  Agent,
  ClientRequest,
  IncomingMessage,
  METHODS,
  OutgoingMessage,
  STATUS_CODES,
  Server,
  ServerResponse,
  createServer,
  get,
  globalAgent,
  maxHeaderSize,
  request,
  validateHeaderName,
  validateHeaderValue,
} = http;
