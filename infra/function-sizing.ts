// The function's memory size: the one number the stack sets (infra/link-token-function.ts) and
// the local stack reports to the function as its Lambda context's memoryLimitInMB
// (local/server.ts), so the logs' function_memory_size and docs/operations.md agree with the
// deployed function (test/infra/operations-page.test.ts holds the page to it).

/**
 * Memory, from measurement (`npm run measure`; the figures are in docs/operations.md, "8. Sizing
 * and cost"): what the process holds after init and over many warm requests leaves 128 MB too
 * little room for a burst of concurrent Plaid calls or a slow GC. CPU comes with memory (1,769 MB
 * = 1 vCPU): 256 MB gives about 0.14 vCPU, enough for the CPU a cold start needs (import and
 * prefetch, then the first request) to stay under a second. A warm request takes little CPU and
 * otherwise waits on Plaid, billed per GB-second, so more memory would raise the cost without
 * shortening that wait.
 */
export const FUNCTION_MEMORY_MB = 256;
