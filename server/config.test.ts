import os from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, defaultNodeId, loadConfig } from './config.ts';
import { createParleyServer } from './ParleyServer.ts';
import { makeTempDir } from '../test/support/tempDir.ts';

/*
 * The settings of issue 19's operations work: the node id (PARLEY_NODE_ID, --node-id, the
 * `nodeId` option) and /metrics (PARLEY_METRICS, PARLEY_METRICS_TOKEN), parsed and refused as
 * every other setting is.
 */

const base = { PARLEY_DEV_LOGIN: '1' };

afterEach(() => vi.restoreAllMocks());

describe('PARLEY_NODE_ID', () => {
  it('defaults to <hostname>-<pid>', () => {
    const { nodeId } = loadConfig(base, []);
    expect(nodeId).toBe(`${os.hostname()}-${process.pid}`);
    expect(defaultNodeId()).toBe(nodeId);
  });

  it('the default stays a valid id whatever the hostname', () => {
    vi.spyOn(os, 'hostname').mockReturnValue(`a host/with:odd chars.${'x'.repeat(100)}`);
    const id = defaultNodeId();
    expect(id).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
    expect(id.startsWith('a-host-with-odd-chars.x')).toBe(true);
    expect(id.endsWith(`-${process.pid}`)).toBe(true);
    expect(loadConfig(base, []).nodeId).toBe(id);
  });

  it('takes a valid id from the environment, and the --node-id flag over it', () => {
    expect(loadConfig({ ...base, PARLEY_NODE_ID: 'eu-1.parley_a' }, []).nodeId).toBe('eu-1.parley_a');
    expect(loadConfig({ ...base, PARLEY_NODE_ID: 'eu-1' }, ['--node-id', 'eu-2']).nodeId).toBe('eu-2');
    expect(loadConfig({ ...base, PARLEY_NODE_ID: 'x'.repeat(64) }, []).nodeId).toBe('x'.repeat(64));
  });

  it.each([
    ['a space', 'node 1'],
    ['a slash', 'node/1'],
    ['a quote (it goes into label values)', 'node"1'],
    ['non-ASCII', 'nœud'],
    ['65 characters', 'x'.repeat(65)],
  ])('refuses %s, naming the variable', (_what, value) => {
    expect(() => loadConfig({ ...base, PARLEY_NODE_ID: value }, [])).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, PARLEY_NODE_ID: value }, [])).toThrow(/PARLEY_NODE_ID: must be 1-64 characters/);
  });

  it('createParleyServer checks the nodeId option the same way', () => {
    const tmp = makeTempDir();
    try {
      expect(() => createParleyServer({ dataDir: tmp.dir, devLogin: true, nodeId: 'no spaces allowed' })).toThrow(/nodeId must be 1-64 characters/);
      expect(() => createParleyServer({ dataDir: tmp.dir, devLogin: true, nodeId: 'n1', metricsToken: 'short' })).toThrow(/metricsToken must be at least 16 characters/);
    } finally {
      tmp.remove();
    }
  });
});

describe('PARLEY_METRICS and PARLEY_METRICS_TOKEN', () => {
  it('default: /metrics on, no token', () => {
    expect(loadConfig(base, [])).toMatchObject({ metrics: true, metricsToken: null });
  });

  it('0 turns /metrics off; a token of 16 characters or more is kept', () => {
    expect(loadConfig({ ...base, PARLEY_METRICS: '0' }, []).metrics).toBe(false);
    expect(loadConfig({ ...base, PARLEY_METRICS_TOKEN: 'a'.repeat(16) }, []).metricsToken).toBe('a'.repeat(16));
  });

  it('refuses a short token and a value that is no switch, naming the variable', () => {
    expect(() => loadConfig({ ...base, PARLEY_METRICS_TOKEN: 'too-short' }, [])).toThrow(/PARLEY_METRICS_TOKEN: must be at least 16 characters/);
    expect(() => loadConfig({ ...base, PARLEY_METRICS: 'maybe' }, [])).toThrow(/PARLEY_METRICS:/);
  });
});
