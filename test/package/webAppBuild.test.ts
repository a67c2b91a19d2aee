import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { WEB_APP_OUT_DIR } from '../../scripts/build.ts';

describe('the web app build', () => {
  it('is a production build, even when the test runner (NODE_ENV=test) made it', () => {
    expect(inject('webAppBuildError')).toBeNull();
    const assets = path.join(WEB_APP_OUT_DIR, 'assets');
    const scripts = readdirSync(assets).filter((name) => name.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(0);
    // lit's development build announces itself with this warning; the production build has none.
    const development = scripts.filter((name) => readFileSync(path.join(assets, name), 'utf8').includes('Lit is in dev mode'));
    expect(development).toEqual([]);
  });
});
