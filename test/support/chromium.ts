import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (`apt-get install -y chromium`; .ci/run installs it). CHROMIUM_PATH overrides. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Flags for a root user on a machine with no outside network: no sandbox (root), no GPU, and none
 * of Chromium's own background connections, which this machine refuses many at a time.
 */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export const hasChromium = (): boolean => existsSync(CHROMIUM_PATH);

/**
 * Browser tests run only where a browser exists, except in CI (`CI` set), where a missing browser
 * is a failure: a suite that silently skips there would prove nothing.
 */
export const browserTestsRun = (): boolean => hasChromium() || Boolean(process.env.CI);

export async function launchChromium(): Promise<Browser> {
  if (!hasChromium()) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: install it with \`apt-get install -y chromium\` or set CHROMIUM_PATH`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: FLAGS });
}

/** A browser suite's name, carrying the reason when it is skipped (no browser and not CI). */
export const browserSuiteName = (name: string): string =>
  browserTestsRun() ? name : `${name} (skipped: no Chromium at ${CHROMIUM_PATH}; apt-get install -y chromium)`;
