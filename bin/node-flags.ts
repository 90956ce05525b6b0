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
 * allocation sites whose objects mostly survived scavenges so far. Under API load about one run in
 * two tipped into a state where scavenges promoted most of every request's objects, HTTP, GraphQL
 * and store alike (a sampling heap profile of what outlived scavenges): 4.5 MB per scavenge
 * instead of 1.3, pauses of 16 ms instead of 8, 10–20 % fewer requests per second and a p99 up to
 * half again as long (`--trace-gc-nvp`). That is what pretenured objects that die young do: dead
 * in the old generation, they keep the young objects they point to alive until a full collection,
 * and those survivors keep their sites' survival rates high. Without pretenuring six runs of six
 * promoted 1.09 MB with 7–8.5 ms pauses; the objects that do live long, the store's image, are
 * copied once more on their way to the old generation instead.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = Object.freeze(['--max-semi-space-size=64', '--min-semi-space-size=64', '--no-allocation-site-pretenuring']);
