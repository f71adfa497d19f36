/**
 * The deployment files (issue 11), checked without a cluster: deploy/compose.yaml and the
 * kustomize manifests in deploy/k8s parse, name only things that exist, run every role with the
 * configuration it refuses to start without, and probe /readyz and /healthz; every workload has a
 * PodDisruptionBudget. (`docker compose config` / `kubectl kustomize` go further where installed.)
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { clusterVariables } from '../../src/cli/start.ts';
import { gatewayConfigVariables } from '../../src/gateway/config.ts';
import { configVariables } from '../../src/platform/config.ts';

const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));
// every variable a file sets is one Bourse reads (README's table lists the same)
const known = new Set(
  [...configVariables, ...gatewayConfigVariables, ...clusterVariables].map((v) => v.name),
);

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML; the assertions below are its type check
type Doc = Record<string, any>;

async function yamlFile(path: string): Promise<Doc> {
  return parse(await readFile(DEPLOY + path, 'utf8'), { merge: true });
}

async function yamlDocs(path: string): Promise<Doc[]> {
  const docs = parseAllDocuments(await readFile(DEPLOY + path, 'utf8'), { merge: true });
  for (const d of docs) expect(d.errors, path).toEqual([]);
  return docs.map((d) => d.toJS() as Doc);
}

describe('deploy/compose.yaml', () => {
  it('runs the cluster of issue 11: PostgreSQL, Redis, 3 NATS nodes and every role', async () => {
    const compose = await yamlFile('compose.yaml');
    const services = compose.services as Record<string, Doc>;
    const roleOf = (s: Doc) => (Array.isArray(s.command) && s.command[0] === 'start' ? s.command[2] : null);
    const count = (role: string) => Object.values(services).filter((s) => roleOf(s) === role).length;
    expect({
      gateway: count('gateway'),
      users: count('users'),
      orders: count('orders'),
      ordersShard: count('orders-shard'),
      marketData: count('market-data'),
      reporting: count('reporting'),
    }).toEqual({ gateway: 2, users: 2, orders: 0, ordersShard: 4, marketData: 2, reporting: 1 });
    expect(Object.keys(services).filter((n) => services[n]!.image?.startsWith('nats:'))).toHaveLength(3);
    expect(services.postgres?.image).toMatch(/^postgres:/);
    expect(services.redis?.image).toMatch(/^redis:/);

    for (const [name, s] of Object.entries(services)) {
      for (const dep of Object.keys(s.depends_on ?? {}))
        expect(services, `${name} → ${dep}`).toHaveProperty(dep);
      for (const v of Object.keys(s.volumes ?? {})) expect(v).toBeDefined();
      if (roleOf(s) === null) continue;
      const env = s.environment as Record<string, string>;
      for (const key of Object.keys(env)) expect(known, `${name}: ${key}`).toContain(key);
      expect(env.DATABASE_URL, name).toMatch(/^postgres:\/\/.*@postgres:5432\//);
      expect(env.NATS_URL!.split(',')).toHaveLength(3);
      expect(env.BOURSE_SECRET, name).toBeDefined();
      expect(s.healthcheck?.test?.join(' '), name).toContain('/healthz');
      // the sharded deployment's variable, not the unsharded one (a role refuses both)
      expect(env, name).not.toHaveProperty('BOURSE_ORDERS_URLS');
      // every URL a role is given names a service of this file
      for (const key of [
        'BOURSE_ORDERS_SHARD_URLS',
        'BOURSE_USERS_URLS',
        'BOURSE_MARKET_DATA_URLS',
        'BOURSE_REPORTING_URLS',
      ]) {
        for (const url of env[key]!.split(/[;,]/))
          expect(services, `${name}: ${url}`).toHaveProperty(new URL(url).hostname);
      }
      expect(env.BOURSE_ORDERS_SHARDS, name).toBe('2');
    }
    // shard k's URLs (the k-th group) are exactly the replicas that serve shard k: two each
    const groups = services['gateway-1']!.environment.BOURSE_ORDERS_SHARD_URLS.split(';') as string[];
    expect(groups).toHaveLength(2);
    groups.forEach((group, k) => {
      const hosts = group.split(',').map((u) => new URL(u).hostname);
      const serving = Object.entries(services)
        .filter(([, s]) => roleOf(s) === 'orders-shard' && s.environment.BOURSE_ORDERS_SHARD === String(k))
        .map(([n]) => n);
      expect(hosts.sort()).toEqual(serving.sort());
      expect(hosts).toHaveLength(2);
    });
    // per-instance consumers and lease holders have their own names
    const ids = Object.values(services)
      .map((s) => s.environment?.BOURSE_INSTANCE_ID)
      .filter((id) => id !== undefined);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('deploy/k8s (kustomize)', () => {
  it('lists resources that exist; every workload has probes on /readyz and /healthz and a PDB', async () => {
    const kustomization = await yamlFile('k8s/kustomization.yaml');
    expect(kustomization.kind).toBe('Kustomization');
    const docs: Doc[] = [];
    for (const file of kustomization.resources as string[]) docs.push(...(await yamlDocs(`k8s/${file}`)));
    const of = (kind: string) => docs.filter((d) => d.kind === kind);
    for (const d of docs) {
      expect(d.apiVersion, JSON.stringify(d.metadata)).toBeTypeOf('string');
      expect(d.metadata?.name).toBeTypeOf('string');
    }

    const configMaps = new Set(of('ConfigMap').map((d) => d.metadata.name));
    for (const d of of('ConfigMap')) for (const key of Object.keys(d.data)) expect(known, key).toContain(key);
    const workloads = [...of('Deployment'), ...of('StatefulSet')];
    const roles = workloads.map((w) => w.spec.template.spec.containers[0].args[2]).sort();
    expect(roles).toEqual(['gateway', 'market-data', 'orders-shard', 'orders-shard', 'reporting', 'users']);
    const services = new Set(of('Service').map((d) => d.metadata.name));

    for (const w of workloads) {
      const name = w.metadata.name as string;
      const labels = w.spec.template.metadata.labels;
      expect(w.spec.selector.matchLabels, name).toEqual(labels);
      if (w.kind === 'StatefulSet') expect(services, name).toContain(w.spec.serviceName);
      const c = w.spec.template.spec.containers[0];
      expect(c.readinessProbe.httpGet.path, name).toBe('/readyz');
      expect(c.livenessProbe.httpGet.path, name).toBe('/healthz');
      const port = c.ports.find((p: Doc) => p.name === c.readinessProbe.httpGet.port);
      expect(port?.containerPort, name).toBe(8080);
      for (const from of c.envFrom)
        if (from.configMapRef) expect(configMaps).toContain(from.configMapRef.name);
      for (const e of c.env) expect(known, `${name}: ${e.name}`).toContain(e.name);
      // a PDB and a Service select exactly these pods
      const pdbs = of('PodDisruptionBudget').filter((p) => matches(p.spec.selector.matchLabels, labels));
      expect(pdbs, name).toHaveLength(1);
      const pdb = pdbs[0]!.spec;
      expect('minAvailable' in pdb || 'maxUnavailable' in pdb, name).toBe(true);
      expect(
        of('Service').filter((s) => matches(s.spec.selector, labels)),
        name,
      ).toHaveLength(1);
    }
    // more than one of each stateless role, and each orders shard as leader + standby
    const replicas = Object.fromEntries(workloads.map((w) => [w.metadata.name, w.spec.replicas]));
    expect(replicas).toMatchObject({ gateway: 2, users: 2, 'orders-0': 2, 'orders-1': 2, 'market-data': 2 });
    const config = of('ConfigMap').find((d) => d.metadata.name === 'bourse-config')!.data;
    expect(config).not.toHaveProperty('BOURSE_ORDERS_URLS');
    expect(config.BOURSE_ORDERS_SHARDS).toBe('2');
    const shardUrls = (config.BOURSE_ORDERS_SHARD_URLS as string).split(';');
    expect(shardUrls).toHaveLength(2);
    for (const [k, url] of shardUrls.entries()) {
      const orders = workloads.find((w) => w.metadata.name === `orders-${k}`)!;
      // a standby is never ready: a rolling update would wait for it forever
      expect(orders.spec.updateStrategy.type).toBe('OnDelete');
      const env = orders.spec.template.spec.containers[0].env as Doc[];
      expect(env.find((e) => e.name === 'BOURSE_ORDERS_SHARD')?.value).toBe(String(k));
      // the k-th group of BOURSE_ORDERS_SHARD_URLS is the Service of shard k's pods only
      const service = of('Service').find((d) => d.metadata.name === new URL(url).hostname)!;
      expect(service, url).toBeDefined();
      expect(matches(service.spec.selector, orders.spec.template.metadata.labels)).toBe(true);
      const other = workloads.find((w) => w.metadata.name === `orders-${1 - k}`)!;
      expect(matches(service.spec.selector, other.spec.template.metadata.labels)).toBe(false);
    }
  });
});

// kubectl's own kustomize, where kubectl is installed (no cluster needed)
const kubectl = (() => {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('deploy/k8s rendered by kubectl kustomize', () => {
  it.skipIf(!kubectl)('renders every resource into the bourse namespace', () => {
    const out = execFileSync('kubectl', ['kustomize', `${DEPLOY}k8s`], { encoding: 'utf8' });
    const docs = parseAllDocuments(out).map((d) => d.toJS() as Doc);
    const namespaced = docs.filter((d) => d.kind !== 'Namespace');
    expect(namespaced.length).toBe(19);
    for (const d of namespaced) expect(d.metadata.namespace, `${d.kind}/${d.metadata.name}`).toBe('bourse');
    expect(docs.filter((d) => d.kind === 'PodDisruptionBudget')).toHaveLength(6);
  });
});

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
