import { describe, expect, it } from 'vitest';
import { ALICE, BOB, CAROL, T0, alice, bob, carolAdmin, docWithClient, exchange, sent, v7 } from '../../test/support/roomDocFixtures.ts';
import { headMaps, threadReadKey } from './headMaps.ts';
import { createMessage, deleteMessage, editMessage } from './messageOps.ts';
import { getMessage, lastMessage, listMessages, listThread, unreadCount } from './queries.ts';
import { markThreadRead, repliesIn, summarize, threadReadPosition, threadUnreadAfter } from './threadOps.ts';

/** A root by Alice and `n` replies alternating Bob and Carol, one second apart; one reply also in the channel. */
function thread(n: number, doc = docWithClient(7)) {
  const root = sent(createMessage(doc, alice, { id: v7(T0), content: 'root', now: T0 }));
  const replies = Array.from({ length: n }, (_, i) =>
    sent(createMessage(doc, i % 2 === 0 ? bob : carolAdmin, { id: v7(T0 + (i + 1) * 1000), content: `r${i}\nsecond line`, parentId: root, showInChannel: i === 1, now: T0 + (i + 1) * 1000 })),
  );
  return { doc, root, replies };
}

const at = (ids: readonly string[], i: number): string => {
  const id = ids[i];
  if (id === undefined) throw new Error(`no id ${i}`);
  return id;
};

describe('threads in a room document', () => {
  it('keeps replies out of the main timeline unless shown in the channel, and pages a thread newest first', () => {
    const { doc, root, replies } = thread(5);
    const after = sent(createMessage(doc, bob, { id: v7(T0 + 10_000), content: 'later', now: T0 + 10_000 }));
    expect(listMessages(doc, { limit: 10 }).messages.map((m) => m.id)).toEqual([root, at(replies, 1), after]);
    expect(listMessages(doc, { limit: 2 })).toMatchObject({ hasMore: true });
    expect(listMessages(doc, { beforeId: at(replies, 1), limit: 5 })).toMatchObject({ messages: [{ id: root }], hasMore: false });
    expect(lastMessage(doc)?.id).toBe(after);
    const page = listThread(doc, root, { limit: 2 });
    expect(page.messages.map((m) => m.id)).toEqual([at(replies, 3), at(replies, 4)]);
    expect(page.hasMore).toBe(true);
    expect(listThread(doc, root, { beforeId: at(replies, 3), limit: 10 }).messages.map((m) => m.id)).toEqual(replies.slice(0, 3));
    // Bob's unread in the room: Carol's reply shown in the channel and Alice's root; Bob's own not.
    expect(unreadCount(doc, BOB)).toBe(2);
  });

  it('derives the thread summary from the head and the quote from the quoted message as it is now', () => {
    const { doc, root, replies } = thread(3);
    headMaps(doc).threads.set(root, summarize(repliesIn(doc, root), []));
    expect(getMessage(doc, root)?.thread).toEqual({ replyCount: 3, lastReplyAt: T0 + 3000, participants: [BOB, CAROL], segments: [] });
    const quoting = sent(createMessage(doc, alice, { id: v7(T0 + 20_000), content: 'indeed', quotedMessageId: at(replies, 0), now: T0 + 20_000 }));
    expect(getMessage(doc, quoting)?.quoted).toEqual({ id: at(replies, 0), senderId: BOB, text: 'r0', deleted: false });
    expect(editMessage(doc, bob, { id: at(replies, 0), content: 'changed', now: T0 + 21_000 }).ok).toBe(true);
    expect(getMessage(doc, quoting)?.quoted?.text).toBe('changed');
    expect(deleteMessage(doc, bob, { id: at(replies, 0), now: T0 + 22_000 }).ok).toBe(true);
    expect(getMessage(doc, quoting)?.quoted).toEqual({ id: at(replies, 0), senderId: BOB, text: '', deleted: true });
    // A deleted reply stays in its thread, as a tombstone.
    expect(listThread(doc, root, { limit: 5 }).messages[0]).toMatchObject({ id: at(replies, 0), deletedAt: T0 + 22_000, parentId: root });
  });

  it('summarizes: deleted replies leave the count but not the participants; each reply once', () => {
    const facts = [
      { id: v7(T0 + 1), senderId: BOB, createdAt: T0 + 1, deleted: false },
      { id: v7(T0 + 2), senderId: CAROL, createdAt: T0 + 2, deleted: true },
      { id: v7(T0 + 3), senderId: BOB, createdAt: T0 + 3, deleted: false },
    ];
    expect(summarize([...facts, ...facts], [2, 1, 2])).toEqual({ replyCount: 2, lastReplyAt: T0 + 3, participants: [BOB, CAROL], segments: [1, 2] });
    expect(summarize([], [])).toEqual({ replyCount: 0, lastReplyAt: null, participants: [], segments: [] });
  });
});

describe('markThreadRead', () => {
  it('moves forward only, per thread and per device, and counts unread replies after it', () => {
    const { doc, root, replies } = thread(4, docWithClient(11));
    expect(threadUnreadAfter([doc], root, threadReadPosition(doc, root, ALICE), ALICE)).toBe(4);
    expect(markThreadRead(doc, alice, root, at(replies, 1))).toEqual({ ok: true, moved: true });
    expect(markThreadRead(doc, alice, root, at(replies, 0))).toEqual({ ok: true, moved: false });
    expect(headMaps(doc).threadReads.toJSON()).toEqual({ [threadReadKey({ rootId: root, userId: ALICE, clientId: 11 })]: at(replies, 1) });
    expect(threadUnreadAfter([doc], root, threadReadPosition(doc, root, ALICE), ALICE)).toBe(2);
    // Bob's own replies never count for him.
    expect(threadUnreadAfter([doc], root, null, BOB)).toBe(2);
  });

  it('converges to the maximum over two devices and refuses what is not a reply of the thread', () => {
    const phone = docWithClient(1);
    const { root, replies } = thread(3, phone);
    const laptop = docWithClient(2);
    exchange(phone, laptop);
    markThreadRead(phone, alice, root, at(replies, 2));
    markThreadRead(laptop, alice, root, at(replies, 0));
    exchange(phone, laptop);
    expect(threadReadPosition(laptop, root, ALICE)).toBe(at(replies, 2));
    expect(markThreadRead(phone, alice, at(replies, 0), at(replies, 1))).toMatchObject({ ok: false, code: 'invalid_payload' });
    expect(markThreadRead(phone, alice, root, v7(T0 + 99_000))).toMatchObject({ ok: false, code: 'not_found' });
  });
});
