import { existsSync } from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { startTestServer, type TestServer } from './serverHarness.ts';
import { WEB_APP_OUT_DIR } from '../../scripts/build.ts';

/**
 * The real server on port 0 (fresh data dir, dev login on) serving the built web app at `/`,
 * so the page, its service worker, the API and the sockets share one origin. The app is built
 * once per test run by test/support/webAppGlobalSetup.ts.
 */
export async function startWebAppServer(env: Record<string, string> = {}): Promise<TestServer> {
  const buildError = inject('webAppBuildError');
  if (buildError) throw new Error(`the web app failed to build:\n${buildError}`);
  if (!existsSync(path.join(WEB_APP_OUT_DIR, 'index.html'))) {
    throw new Error(`the web app is not built in ${WEB_APP_OUT_DIR} (run \`npm run build:app\`)`);
  }
  return startTestServer({ PARLEY_APP_DIR: WEB_APP_OUT_DIR, ...env });
}
