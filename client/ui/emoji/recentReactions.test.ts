import { describe, expect, it } from 'vitest';
import { MapStorage } from '../../../test/support/MapStorage.ts';
import { QUICK_REACTIONS, forgetRecentReactions, loadRecentReactions, quickReactions, rememberReaction } from './recentReactions.ts';


describe('recent reactions', () => {
  it('starts with the defaults, then puts each reaction used first, once', () => {
    const storage = new MapStorage();
    expect(quickReactions(loadRecentReactions(storage))).toEqual([...QUICK_REACTIONS]);
    rememberReaction('🚀', storage);
    rememberReaction('🎉', storage);
    rememberReaction('🚀', storage);
    expect(loadRecentReactions(storage)).toEqual(['🚀', '🎉']);
    // Same length as before: the recent ones push the last defaults out, never a default twice.
    expect(quickReactions(loadRecentReactions(storage))).toEqual(['🚀', '🎉', '👍', '❤️', '😂', '😮', '😢', '🙏']);
  });

  it('keeps one row of reactions, the newest', () => {
    const storage = new MapStorage();
    const used = ['🚀', '🔥', '✅', '💯', '🤔', '👏', '🥳', '😎', '🙌', '🌮'];
    for (const reaction of used) rememberReaction(reaction, storage);
    expect(loadRecentReactions(storage)).toEqual(used.reverse().slice(0, QUICK_REACTIONS.length));
  });

  it('reads anything unreadable as no recent reactions', () => {
    const storage = new MapStorage();
    for (const raw of ['not json', '["🚀"]', '{"version":2,"recent":["🚀"]}', '{"version":1,"recent":["a|b"]}', JSON.stringify({ version: 1, recent: Array(9).fill('🚀') })]) {
      storage.setItem('parley:recent-reactions', raw);
      expect(loadRecentReactions(storage), raw).toEqual([]);
    }
    // A reaction the server would refuse is not remembered either.
    expect(rememberReaction('x'.repeat(33), storage)).toEqual([]);
  });

  it('forgets them', () => {
    const storage = new MapStorage();
    rememberReaction('🚀', storage);
    forgetRecentReactions(storage);
    expect(loadRecentReactions(storage)).toEqual([]);
  });
});
