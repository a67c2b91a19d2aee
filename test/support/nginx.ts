import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './clientHarness.ts';
import { firstExisting, type LocalService, serviceSuiteName, serviceTestsRun, startLocalService, stopLocalService } from './localService.ts';
import { makeTempDir } from './tempDir.ts';

const BIN = firstExisting([process.env.NGINX ?? '/usr/sbin/nginx']);
export const nginxTestsRun = (): boolean => serviceTestsRun(BIN);
export const nginxSuiteName = (name: string): string => serviceSuiteName(name, BIN, 'nginx-light');

/** The repository's load balancer configuration (what docker-compose.yml runs). */
const CONFIG = path.join(import.meta.dirname, '..', '..', 'deploy', 'nginx.conf');

export interface ThrowawayNginx {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * deploy/nginx.conf, run by a test in front of its own nodes: the same locations, headers and
 * upstream rules, with the upstream's servers replaced by `upstreams` (host:port), a free port
 * on 127.0.0.1 instead of 80, and its files (pid, logs, temp) in a temp directory.
 */
export async function startNginx(upstreams: readonly string[]): Promise<ThrowawayNginx> {
  if (!BIN) throw new Error('no nginx: apt-get install -y nginx-light (or set NGINX)');
  const tmp = makeTempDir('parley-nginx-');
  const port = await freePort();
  let config = readFileSync(CONFIG, 'utf8');
  const servers = upstreams.map((address) => `    server ${address} max_fails=1 fail_timeout=5s;`).join('\n');
  config = config.replace(/upstream parley \{[^}]*\}/, `upstream parley {\n${servers}\n  }`);
  if (!config.includes('listen 80;')) throw new Error('deploy/nginx.conf no longer listens on 80: update test/support/nginx.ts');
  config = config.replace('listen 80;', `listen 127.0.0.1:${port};`);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${path.join(tmp.dir, kind)};`).join('\n');
  config = config.replace(/^http \{/m, `http {\n  access_log off;\n${temp}`);
  const root = process.getuid?.() === 0 ? 'user root;\n' : '';
  config = `${root}pid ${path.join(tmp.dir, 'nginx.pid')};\nerror_log stderr notice;\n${config}`;
  const file = path.join(tmp.dir, 'nginx.conf');
  writeFileSync(file, config);
  const server: LocalService = await startLocalService(BIN, ['-p', tmp.dir, '-c', file, '-g', 'daemon off;'], /start worker process/);
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      await stopLocalService(server, 'SIGQUIT');
      tmp.remove();
    },
  };
}
