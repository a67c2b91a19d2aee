import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Attachments, CollectOutcome, ReferenceCheck } from './Attachments.ts';
import { AttachmentSweeper } from './AttachmentSweeper.ts';

describe('AttachmentSweeper', () => {
  it('runs a pass asked for during another after it ends, never joining it: the running one may have listed its candidates before the caller asked', async () => {
    const started: (number | undefined)[] = [];
    let release!: () => void;
    const firstHeld = new Promise<void>((resolve) => (release = resolve));
    const attachments = {
      async collect(_references: ReferenceCheck, now?: number): Promise<CollectOutcome> {
        started.push(now);
        if (started.length === 1) await firstHeld;
        return { records: started.length, blobs: 0 };
      },
    } as unknown as Attachments;
    const sweeper = new AttachmentSweeper({ attachments, references: {} as ReferenceCheck, logger: pino({ level: 'silent' }) });
    const first = sweeper.sweep(1);
    const second = sweeper.sweep(2);
    await Promise.resolve();
    expect(started).toEqual([1]);
    release();
    expect(await first).toEqual({ records: 1, blobs: 0 });
    expect(await second).toEqual({ records: 2, blobs: 0 });
    expect(started).toEqual([1, 2]);
    await sweeper.stop();
  });

  it('a failed pass fails its caller only; the next one runs', async () => {
    let calls = 0;
    const attachments = {
      async collect(): Promise<CollectOutcome> {
        calls++;
        if (calls === 1) throw new Error('disk gone');
        return { records: 0, blobs: 0 };
      },
    } as unknown as Attachments;
    const sweeper = new AttachmentSweeper({ attachments, references: {} as ReferenceCheck, logger: pino({ level: 'silent' }) });
    const failed = sweeper.sweep();
    const next = sweeper.sweep();
    await expect(failed).rejects.toThrow('disk gone');
    expect(await next).toEqual({ records: 0, blobs: 0 });
    await sweeper.stop();
  });
});
