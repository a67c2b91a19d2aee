import type { Scenario } from './scenario.ts';
import roomDocQueries from './scenarios/roomDocQueries.ts';
import syncLatency from './scenarios/syncLatency.ts';

/** Every benchmark `npm run bench` runs, in this order. Add new scenarios here. */
export const scenarios: readonly Scenario[] = [roomDocQueries, syncLatency];
