// y-leveldb 0.1.2 ships no declaration file (its package.json names one it does not include).
// Only what the benchmark seeding uses.
declare module 'y-leveldb' {
  export class LeveldbPersistence {
    constructor(location: string);
    storeUpdate(docName: string, update: Uint8Array): Promise<number>;
    destroy(): Promise<void>;
  }
}
