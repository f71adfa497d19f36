/**
 * Probes PostgreSQL, Redis and NATS once for the whole run and hands the result to the test
 * workers (inject('bourseServices')). Workers append the suites they skip to a file, since they
 * are separate processes; at teardown the run names them, or says nothing when none were skipped.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { deleteStaleStreams } from './nats.ts';
import { dropStaleDatabases } from './postgres.ts';
import { probeServices, type Service, type SkipRecord, serviceNames } from './probe.ts';

export default async function setup(project: TestProject): Promise<() => void> {
  const services = await probeServices();
  const dir = mkdtempSync(join(tmpdir(), 'bourse-test-'));
  const skipLog = join(dir, 'skipped.jsonl');
  writeFileSync(skipLog, '');
  project.provide('bourseServices', services);
  project.provide('bourseSkipLog', skipLog);
  // Leftovers of killed runs; concurrent runs' own resources are younger than the cutoff.
  if (!services.postgres.problem) await dropStaleDatabases(services.postgres.url).catch(() => {});
  if (!services.nats.problem) await deleteStaleStreams(services.nats.url).catch(() => {});

  return () => {
    const summary = summarise(readFileSync(skipLog, 'utf8'));
    rmSync(dir, { recursive: true, force: true });
    if (summary) process.stdout.write(`\n${summary}\n`);
  };
}

/** "Skipped (no PostgreSQL at postgres://…): suite A, suite B", one line per missing service. */
export function summarise(log: string): string {
  const bySource = new Map<string, Set<string>>();
  for (const line of log.split('\n')) {
    if (!line) continue;
    const record = JSON.parse(line) as SkipRecord;
    const key = `no ${serviceNames[record.service as Service]} at ${record.url}`;
    const suites = bySource.get(key) ?? new Set<string>();
    suites.add(record.suite);
    bySource.set(key, suites);
  }
  return [...bySource].map(([source, suites]) => `Skipped (${source}): ${[...suites].join(', ')}`).join('\n');
}
