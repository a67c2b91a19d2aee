import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MODULE = fileURLToPath(new URL('./lowerHelperThreads.ts', import.meta.url));

/*
 * Run in a process of its own (the test runner's threads keep their priority): the helper threads
 * end at nice 19, the main thread where it was, a thread lowered before (as the storage worker
 * lowers itself) is left alone.
 */
describe.runIf(process.platform === 'linux')('lowerHelperThreads', () => {
  it('lowers every helper thread to nice 19 and leaves the main thread, and a thread set apart, alone', () => {
    const script = `
      import { Worker } from 'node:worker_threads';
      import { lowerHelperThreads, threadIds, threadNice } from ${JSON.stringify(MODULE)};
      // A worker thread that lowers itself to 10 first (as the search worker does), then reports its tid.
      const body = "const get = process.getBuiltinModule; get('node:os').setPriority(10); get('node:worker_threads').parentPort.postMessage(Number(get('node:fs').readlinkSync('/proc/thread-self').split('/').pop()))";
      const worker = new Worker(body, { eval: true });
      const workerTid = await new Promise((resolve) => worker.once('message', resolve));
      const mainBefore = threadNice(process.pid);
      const lowered = await lowerHelperThreads();
      const nices = Object.fromEntries(threadIds().map((tid) => [tid, threadNice(tid)]));
      await worker.terminate();
      console.log(JSON.stringify({ lowered, main: process.pid, mainBefore, workerTid, nices }));
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    const { lowered, main, mainBefore, workerTid, nices } = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as {
      lowered: number;
      main: number;
      mainBefore: number;
      workerTid: number;
      nices: Record<string, number>;
    };
    // The main thread keeps its priority (0, or whatever the suite was started with).
    expect(nices[main]).toBe(mainBefore);
    // A thread set apart keeps its own (10, unless the suite was started above it).
    expect(nices[workerTid]).toBe(Math.max(10, mainBefore));
    const helpers = Object.entries(nices).filter(([tid]) => Number(tid) !== main && Number(tid) !== workerTid);
    // V8's platform threads and libuv's pool at least.
    expect(helpers.length).toBeGreaterThanOrEqual(4);
    expect(lowered).toBe(helpers.length);
    for (const [, nice] of helpers) expect(nice).toBe(19);
  });
});
