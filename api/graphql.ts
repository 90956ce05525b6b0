/**
 * The `graphql` module, loaded the way mercurius loads it. graphql-js checks types with
 * `instanceof`, so the schema mercurius builds and the helpers our rules call must come from one
 * copy; bundlers (vitest/vite) would otherwise hand ESM code the `.mjs` build while mercurius
 * `require`s the CommonJS one ("Cannot use GraphQLObjectType from another module or realm").
 */
import { createRequire } from 'node:module';
import type * as GraphQLModule from 'graphql';

/** The CommonJS instance of `graphql` shared with mercurius. */
export const gql: typeof GraphQLModule = createRequire(import.meta.url)('graphql') as typeof GraphQLModule;
