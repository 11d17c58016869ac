import type { TestProject } from 'vitest/node';
import { findPgBinDir, startPgCluster } from './pg-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string | null;
  }
}

/**
 * One PostgreSQL cluster for the whole run when its binaries are installed; every test file makes
 * its own database in it. In CI the PostgreSQL half is mandatory.
 */
export default async function setup(project: TestProject) {
  const binDir = findPgBinDir();
  if (!binDir) {
    if (process.env.CI === 'true') throw new Error('CI=true but no PostgreSQL server binaries found: the PostgreSQL half of the suite would be skipped');
    console.warn('[yutang tests] PostgreSQL server not installed: running the SQLite half only');
    project.provide('pgUrl', null);
    return;
  }
  const cluster = await startPgCluster(binDir);
  console.log(`[yutang tests] PostgreSQL cluster started from ${binDir} at ${cluster.url.replace(/^postgres:\/\/[^@]*@/, '')}`);
  project.provide('pgUrl', cluster.url);
  return () => {
    cluster.stop();
    console.log('[yutang tests] PostgreSQL cluster stopped and removed');
  };
}
