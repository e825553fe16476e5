// Builds the browser client (one source: client/link-token-client.ts) into a plain ES module a
// page can import, as the demo page does. The local stack builds it at start and serves it at
// /demo/link-token-client.js. `node client/build.ts [outfile]` builds it anywhere else.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const CLIENT_ENTRY = fileURLToPath(new URL('./link-token-client.ts', import.meta.url));

export async function buildBrowserClient(opts: { outfile: string; minify?: boolean }): Promise<string> {
  await build({
    entryPoints: [CLIENT_ENTRY],
    outfile: opts.outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // AbortSignal.any and .timeout are the newest APIs it uses (Chrome 116, Firefox 124, Safari 17.4).
    target: ['es2022', 'chrome116', 'firefox124', 'safari17.4'],
    minify: opts.minify ?? false,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
  });
  return opts.outfile;
}

if (import.meta.main) {
  const outfile = process.argv[2] ?? fileURLToPath(new URL('../dist/client/link-token-client.js', import.meta.url));
  console.log(`built ${await buildBrowserClient({ outfile, minify: true })}`);
}
