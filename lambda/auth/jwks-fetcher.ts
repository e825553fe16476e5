// JWKS fetcher for aws-jwt-verify. Its own fetcher is https-only; this one also reaches loopback
// http issuers (local runs, tests) and refuses any other plain-http URL, with a bounded time and
// size so a slow identity provider cannot hold a request for long.
import http from 'node:http';
import https from 'node:https';
import type { Fetcher } from 'aws-jwt-verify/https';
import { FetchError, NonRetryableFetchError } from 'aws-jwt-verify/error';
import { urlProblem } from '../config/url-rules.ts';

const MAX_JWKS_BYTES = 256 * 1024;

export function createJwksFetcher(opts: { timeoutMs: number; onFetch?: (uri: string) => void }): Fetcher {
  const agents = { 'https:': new https.Agent({ keepAlive: true }), 'http:': new http.Agent({ keepAlive: true }) };
  return {
    fetch(uri) {
      const problem = urlProblem(uri, { allowLoopbackHttp: true });
      if (problem) return Promise.reject(new NonRetryableFetchError(uri, `JWKS URI ${problem}`));
      opts.onFetch?.(uri);
      const url = new URL(uri);
      const transport = url.protocol === 'https:' ? https : http;
      return new Promise<ArrayBuffer>((resolve, reject) => {
        const req = transport.get(
          url,
          { agent: agents[url.protocol as 'https:' | 'http:'], timeout: opts.timeoutMs },
          (res) => {
            if (res.statusCode !== 200) {
              res.resume();
              reject(new NonRetryableFetchError(uri, `Status code is ${res.statusCode}, expected 200`));
              return;
            }
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (chunk: Buffer) => {
              size += chunk.length;
              if (size > MAX_JWKS_BYTES) req.destroy(new Error('JWKS response too large'));
              else chunks.push(chunk);
            });
            res.on('end', () => {
              const buf = Buffer.concat(chunks);
              resolve(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
            });
            res.on('error', (err) => reject(new FetchError(uri, err.message)));
          },
        );
        req.on('timeout', () => req.destroy(new Error(`timed out after ${opts.timeoutMs} ms`)));
        req.on('error', (err) => reject(new FetchError(uri, err.message)));
      });
    },
  };
}
