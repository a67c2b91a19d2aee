import { describe, expect, it } from 'vitest';
import { encodeFrame } from './frames.ts';
import { MAX_CHANNEL, MAX_DOCUMENT_NAME, decodeMuxFrame, encodeControl, encodeOnChannel } from './muxFrames.ts';

describe('mux frames', () => {
  it('round-trips control frames and a document frame on its channel', () => {
    for (const control of [
      { type: 'open', channel: 1, document: 'a room' },
      { type: 'close', channel: 300 },
      { type: 'closed', channel: MAX_CHANNEL, code: 4403, errorCode: 'Forbidden', reason: 'not a member' },
      { type: 'openAs', channel: 7, document: 'a room:3', userId: 'u-1', userName: 'Ana' },
      { type: 'openCommandsAs', channel: 9, userId: 'u-1', userName: 'Ana' },
      { type: 'openCommandsAs', channel: MAX_CHANNEL, userId: '', userName: '' },
    ] as const) {
      expect(decodeMuxFrame(encodeControl(control))).toEqual({ ok: true, frame: { channel: 0, control } });
    }
    const frame = encodeFrame({ type: 'update', update: new Uint8Array([0, 0]) });
    expect(decodeMuxFrame(encodeOnChannel(70_000, frame))).toEqual({ ok: true, frame: { channel: 70_000, body: frame } });
  });

  it('refuses what is not a mux frame, never throwing', () => {
    const bad = [
      new Uint8Array([]),
      new Uint8Array([0x80]),
      encodeOnChannel(MAX_CHANNEL + 1, new Uint8Array([0])),
      new Uint8Array([0, 9, 1]),
      encodeControl({ type: 'open', channel: 1, document: '' }),
      encodeControl({ type: 'open', channel: 1, document: 'x'.repeat(MAX_DOCUMENT_NAME + 1) }),
      encodeControl({ type: 'close', channel: 0 }),
      new Uint8Array([...encodeControl({ type: 'close', channel: 2 }), 7]),
      encodeControl({ type: 'closed', channel: 1, code: 4403, errorCode: 'x', reason: 'y' }).slice(0, 5),
      encodeControl({ type: 'openAs', channel: 1, document: '', userId: 'u', userName: 'n' }),
      encodeControl({ type: 'openAs', channel: 1, document: 'd', userId: 'u', userName: 'Ana' }).slice(0, -2),
      // openCommandsAs: truncated, on the control channel, past the largest channel, with trailing bytes.
      encodeControl({ type: 'openCommandsAs', channel: 1, userId: 'u', userName: 'Ana' }).slice(0, -2),
      encodeControl({ type: 'openCommandsAs', channel: 1, userId: 'u', userName: 'Ana' }).slice(0, 3),
      encodeControl({ type: 'openCommandsAs', channel: 0, userId: 'u', userName: 'Ana' }),
      encodeControl({ type: 'openCommandsAs', channel: MAX_CHANNEL + 1, userId: 'u', userName: 'Ana' }),
      new Uint8Array([...encodeControl({ type: 'openCommandsAs', channel: 2, userId: 'u', userName: 'Ana' }), 0]),
      new Uint8Array([0, 5, 1]),
    ];
    for (const bytes of bad) expect(decodeMuxFrame(bytes).ok).toBe(false);
  });
});
