import type { TestProject } from 'vitest/node';
import { buildLibraryIfStale, buildWebAppIfStale } from '../../scripts/build.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Why the web app failed to build for this run, or null when it is built. */
    webAppBuildError: string | null;
    /** Why the library (dist/, what the package ships) failed to build, or null when it is built. */
    libraryBuildError: string | null;
  }
}

const failure = (err: unknown): string =>
  err instanceof Error && 'stderr' in err ? `${err.message}\n${String((err as { stdout?: unknown }).stdout ?? '')}${String(err.stderr)}` : String(err);

/**
 * Builds the library and the web app before any test file runs (once per `vitest run`, in the
 * main process), so that parallel test files never race to build them; a no-op when the builds
 * are up to date. A failed build fails the tests that need it (the browser tests, the child
 * process and package tests) with the compiler's output, not the whole run.
 */
export default async function setup(project: TestProject): Promise<void> {
  const [library, webApp] = await Promise.allSettled([buildLibraryIfStale(), buildWebAppIfStale()]);
  project.provide('libraryBuildError', library.status === 'rejected' ? failure(library.reason) : null);
  project.provide('webAppBuildError', webApp.status === 'rejected' ? failure(webApp.reason) : null);
}
