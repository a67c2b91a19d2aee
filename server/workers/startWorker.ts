import { Worker } from 'node:worker_threads';
import { RUNNING_COMPILED } from '../packagePaths.ts';

/**
 * Starts the worker thread whose entry module is `entry` (a sibling of `from`, named without its
 * extension). Compiled (the package, `npm start`), the worker is plain JavaScript and starts with
 * no loader: no tsx at run time. From the TypeScript sources (tests, `npm run dev`) the worker is
 * a fresh thread without the parent's TypeScript loader, so it registers tsx (a dev dependency)
 * first.
 */
export function startWorker(from: string, entry: string, workerData: unknown): Worker {
  if (RUNNING_COMPILED) return new Worker(new URL(`./${entry}.js`, from), { workerData });
  const source = new URL(`./${entry}.ts`, from).href;
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}
