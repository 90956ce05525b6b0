/**
 * The V8 flags the service runs under, wherever it is started: `npm start` (package.json), the
 * image's ENTRYPOINT (Dockerfile, which the Helm chart runs) and the API benchmark's server.
 * `test/chart-files.test.ts` holds the three to this list.
 *
 * A young generation of 64 MiB per semi-space, fixed. Under API load each request allocates
 * ~60 KB that lives only until its batch commits, and at V8's default (16 MiB, grown slowly
 * from 1 MiB) a scavenge ran every ~55 ms and copied the ~5 MB of requests then in flight: 15 %
 * of the event loop. Four times the space means a quarter of the scavenges, each copying about
 * as much; requestDeployment went 3,991 → 4,299 req/s (mean of eleven alternating runs, +8 %),
 * for ~95 MB more resident memory. The minimum must be set too (V8 grows the space only after
 * many scavenges with high survival), and a minimum cannot go in NODE_OPTIONS, so these are
 * command-line flags.
 *
 * No allocation-site pretenuring. V8 allocates straight into the old generation the objects of
 * allocation sites whose objects mostly survive scavenges. Under API load some site on a
 * request's path tipped into that (one run in two): its short-lived objects then died in the old
 * generation still pointing at young ones, which kept every request's objects alive through the
 * next scavenges, which in turn kept the site's survival rate high. Runs in that state promoted
 * 4.5 MB per scavenge instead of 1.3 with pauses of 16 ms instead of 8, and ran 10–20 % slower
 * with a p99 up to half again as long (`--trace-gc-nvp`). Without pretenuring, six runs of six
 * promoted 1.09 MB with 7–8.5 ms pauses: the objects that do live long, the store's image, are
 * copied once more on their way to the old generation, which costs less than the nepotism did.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = Object.freeze(['--max-semi-space-size=64', '--min-semi-space-size=64', '--no-allocation-site-pretenuring']);
