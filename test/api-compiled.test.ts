/**
 * mercurius runs a document through graphql-js on its first execution and through graphql-jit,
 * compiled, from then on; the two resolve some values differently (graphql-jit does not call a
 * function-valued field, for one). Every query, with every field selected, must answer the same on
 * a document's first run and on its compiled runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { specInput, startHarness } from './api-harness.js';
import type { Harness } from './api-harness.js';

const RESOURCES = '{ cpu memory gpu instances }';
const LIMITS = '{ cpu memory gpu instances }';
const EXPLANATION = `{ ok summary considered assignments { cloudId replicas } ranked { cloudId total maxReplicas terms { scorer score weight } }
  rejected { cloudId filter reason detail } reasonCounts { reason count } failure { reason detail } demand ${RESOURCES} omitted { ranked rejected } }`;
const CLOUD = `{ id kind locality zone tier tierExclusive attributes { arch xinchuang gpuModel labels { key value } } taints { key value effect }
  capacity ${RESOURCES} allocated ${RESOURCES} free ${RESOURCES} costPerUnit ${RESOURCES} condition version }`;
const TENANT = `{ path displayName parent quota { total ${LIMITS} byTier { tier limits ${LIMITS} } } usage ${RESOURCES} usageByTier { tier usage ${RESOURCES} }
  children { path displayName } version }`;
const DEPLOYMENT = `{ id tenant name phase generation replicas slices { cloudId replicas } message spec createdAt updatedAt version
  placement { generation slices { cloudId replicas } cause decidedAt explanation ${EXPLANATION} } }`;
const SUMMARY = `{ capacity ${RESOURCES} allocated ${RESOURCES} headroom ${RESOURCES} }`;

const QUERIES: Record<string, string> = {
  viewer: '{ viewer { subject role tenant expiresAt } }',
  clouds: `{ clouds ${CLOUD} }`,
  cloud: `query($id: ID!) { cloud(id: $id) ${CLOUD} }`,
  tenants: `{ tenants ${TENANT} }`,
  tenant: `{ tenant(path: "gd") ${TENANT} }`,
  deployments: `{ deployments(first: 3) { nodes ${DEPLOYMENT} pageInfo { endCursor hasNextPage } } }`,
  deployment: `query($deployment: ID!) { deployment(id: $deployment) ${DEPLOYMENT} }`,
  previewPlacement: `query($spec: DeploymentSpecInput!) { previewPlacement(spec: $spec) { explanation ${EXPLANATION}
    quota { tenant limit ${LIMITS} headroom ${LIMITS} request ${RESOURCES} after ${LIMITS} fits } } }`,
  auditEvents: '{ auditEvents(first: 5) { nodes { seq time actor role action object result detail prevHash hash } pageInfo { endCursor hasNextPage } } }',
  fleetSummary: `{ fleetSummary { clouds totals ${SUMMARY} byTier { tier clouds resources ${SUMMARY} } byProvince { province clouds resources ${SUMMARY} }
    conditions { condition clouds } } }`,
};

describe('a document answers the same interpreted and compiled', () => {
  let h: Harness;
  let operator: string;
  let variables: Record<string, unknown>;

  beforeAll(async () => {
    h = await startHarness({ limits: { cost: 1_000_000 } });
    operator = await h.token('operator');
    const placed = await h.gql('mutation($spec: DeploymentSpecInput!) { requestDeployment(spec: $spec) { deployment { id slices { cloudId } } } }', { spec: specInput({ name: 'compiled' }) }, operator);
    const deployment = placed.body.data?.requestDeployment.deployment;
    variables = { id: deployment.slices[0].cloudId, deployment: deployment.id, spec: specInput({ name: 'preview' }) };
  });
  afterAll(async () => h.close());

  it.each(Object.keys(QUERIES))('%s', async (name) => {
    const query = QUERIES[name] ?? '';
    const used = Object.fromEntries(Object.entries(variables).filter(([k]) => query.includes(`$${k}`)));
    // A text of its own, so that its first run here is its first run at all.
    const doc = `${query}\n# compiled ${name}`;
    const runs = [];
    for (let run = 0; run < 3; run++) runs.push(await h.gql(doc, used, operator));
    for (const res of runs) expect(res.body.errors).toBeUndefined();
    const first = runs[0]?.body.data;
    expect(first).toBeTruthy();
    for (const res of runs.slice(1)) expect(res.body.data).toEqual(first);
  });
});
