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
 */
export const SERVICE_NODE_FLAGS: readonly string[] = Object.freeze(['--max-semi-space-size=64', '--min-semi-space-size=64']);
