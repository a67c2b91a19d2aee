import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startTestServer } from '../../test/support/serverHarness.ts';
import { runFlakyChat } from '../../test/support/flakyChat.ts';

/*
 * The flaky-link soak: stock y-websocket providers (three users, two devices each, every other one
 * with `parley=1`) chat for a long time through proxies that delay, stall and cut their
 * connections (test/support/flakyChat.ts, the same driver as the short test), against a real
 * Parley server with its defaults; then every link heals. Prints, per seed: steps, cuts, stalls,
 * operations, messages on the server, the time to converge after healing, devices that diverged
 * and providers that stopped for good (both must be 0).
 * Usage: npx tsx bench/probes/flakySoak.ts [seconds per seed = 60] [seeds = 1,2,3]
 */

const seconds = Number(process.argv[2] ?? 60);
const seeds = (process.argv[3] ?? '1,2,3').split(',').map(Number);
const results = [];
for (const seed of seeds) {
  const t = await startTestServer();
  try {
    const outcome = await runFlakyChat(t, { seed, steps: Number.MAX_SAFE_INTEGER, durationMs: seconds * 1000 });
    results.push({ probe: 'flakySoak', seed, seconds, ...outcome });
    console.log(JSON.stringify(results.at(-1)));
  } finally {
    await t.dispose();
  }
}
const out = path.resolve(import.meta.dirname, '..', 'results');
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, `flakySoak-${new Date().toISOString().replace(/[:.]/g, '')}.json`), JSON.stringify(results, null, 2) + '\n');
if (results.some((r) => r.finalCloses.length > 0 || r.divergentDevices > 0)) process.exitCode = 1;
