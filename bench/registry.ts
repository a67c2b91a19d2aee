import type { Scenario } from './scenario.ts';

/** A benchmark by name, its module loaded only when it runs. */
export interface RegisteredScenario {
  readonly name: string;
  load(): Promise<Scenario>;
}

/**
 * Every benchmark `npm run bench` runs, in this order. Add new scenarios here. A scenario's module
 * is imported only when it runs, so the harness, which is also the load generator of the fan-out
 * scenarios, holds only what it runs: every scenario's modules at once (Playwright, the peers'
 * servers, the cluster's clients) came to 65 MB of heap after a full collection, one scenario's
 * (largeRoomNeighbour) to 13 MB.
 */
export const scenarios: readonly RegisteredScenario[] = [
  { name: 'roomDocQueries', load: async () => (await import('./scenarios/roomDocQueries.ts')).default },
  { name: 'threadOps', load: async () => (await import('./scenarios/threadOps.ts')).default },
  { name: 'updateValidation', load: async () => (await import('./scenarios/updateValidation.ts')).default },
  { name: 'syncLatency', load: async () => (await import('./scenarios/syncLatency.ts')).default },
  { name: 'commandFanout', load: async () => (await import('./scenarios/commandFanout.ts')).default },
  { name: 'clientStartup', load: async () => (await import('./scenarios/clientStartup.ts')).default },
  { name: 'webAppLoad', load: async () => (await import('./scenarios/webAppLoad.ts')).default },
  { name: 'largeRoom', load: async () => (await import('./scenarios/largeRoom.ts')).default },
  { name: 'largeRoomNeighbour', load: async () => (await import('./scenarios/largeRoomNeighbour.ts')).default },
  { name: 'roomConversion', load: async () => (await import('./scenarios/roomConversion.ts')).default },
  { name: 'webAppLargeRoom', load: async () => (await import('./scenarios/webAppLargeRoom.ts')).default },
  { name: 'peerFanout', load: async () => (await import('./scenarios/peerFanout.ts')).default },
  { name: 'openLoopFanout', load: async () => (await import('./scenarios/openLoopFanout.ts')).default },
  { name: 'noisyNeighbour', load: async () => (await import('./scenarios/noisyNeighbour.ts')).default },
  { name: 'durability', load: async () => (await import('./scenarios/durability.ts')).default },
  { name: 'peerManyRooms', load: async () => (await import('./scenarios/peerManyRooms.ts')).default },
  { name: 'peerPresence', load: async () => (await import('./scenarios/peerPresence.ts')).default },
  { name: 'peerColdLoad', load: async () => (await import('./scenarios/peerColdLoad.ts')).default },
  { name: 'peerJoinStorm', load: async () => (await import('./scenarios/peerJoinStorm.ts')).default },
  { name: 'peerIdleMemory', load: async () => (await import('./scenarios/peerIdleMemory.ts')).default },
  { name: 'userFeed', load: async () => (await import('./scenarios/userFeed.ts')).default },
  { name: 'manyLargeRooms', load: async () => (await import('./scenarios/manyLargeRooms.ts')).default },
  { name: 'searchLatency', load: async () => (await import('./scenarios/searchLatency.ts')).default },
  { name: 'searchIndexing', load: async () => (await import('./scenarios/searchIndexing.ts')).default },
  { name: 'attachmentUpload', load: async () => (await import('./scenarios/attachmentUpload.ts')).default },
  { name: 'clusterScaling', load: async () => (await import('./scenarios/clusterScaling.ts')).default },
];
