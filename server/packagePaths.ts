import { fileURLToPath } from 'node:url';

/**
 * Whether this module runs compiled (dist/server/*.js, the installed package and `npm start`)
 * or from its TypeScript source (tests and `npm run dev`, through vitest or tsx). Paths to the
 * package's other files differ between the two, and so does how a worker thread is started.
 */
export const RUNNING_COMPILED = !import.meta.url.endsWith('.ts');

/** The package root: two levels above dist/server/ when compiled, one above server/ otherwise. */
export const PACKAGE_ROOT = fileURLToPath(new URL(RUNNING_COMPILED ? '../../' : '../', import.meta.url));
