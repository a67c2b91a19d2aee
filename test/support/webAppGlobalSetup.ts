import type { TestProject } from 'vitest/node';
import { buildWebAppIfStale } from '../../scripts/webAppBuild.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Why the web app failed to build for this run, or null when it is built. */
    webAppBuildError: string | null;
  }
}

/**
 * Builds the web app before any test file runs (once per `vitest run`, in the main process), so
 * that parallel browser test files never race to build it; a no-op when the build is up to date.
 * A failed build fails the browser tests with Vite's output (test/support/webApp.ts), not the
 * whole run: the server's tests still report.
 */
export default async function setup(project: TestProject): Promise<void> {
  let error: string | null = null;
  try {
    await buildWebAppIfStale();
  } catch (err) {
    error = err instanceof Error && 'stderr' in err ? `${err.message}\n${String(err.stderr)}` : String(err);
  }
  project.provide('webAppBuildError', error);
}
