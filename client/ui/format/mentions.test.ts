import { describe, expect, it } from 'vitest';
import { mentionParts, mentionQueryAt, mentionedIn } from './mentions.ts';

describe('mentionParts', () => {
  it('cuts the text at each @Name, longest name first, and leaves other @ alone', () => {
    const parts = mentionParts('hi @Ann Lee and @Ann, mail a@b', [
      { name: 'Ann', mine: false },
      { name: 'Ann Lee', mine: true },
    ]);
    expect(parts).toEqual([
      { text: 'hi ' },
      { text: '@Ann Lee', mention: { name: 'Ann Lee', mine: true } },
      { text: ' and ' },
      { text: '@Ann', mention: { name: 'Ann', mine: false } },
      { text: ', mail a@b' },
    ]);
  });

  it('keeps markup-looking names as text', () => {
    const parts = mentionParts('@<b>x</b> hi', [{ name: '<b>x</b>', mine: false }]);
    expect(parts[0]).toEqual({ text: '@<b>x</b>', mention: { name: '<b>x</b>', mine: false } });
  });
});

describe('mentionQueryAt / mentionedIn', () => {
  it('finds the @word before the caret, only at a word start', () => {
    expect(mentionQueryAt('hello @be', 9)).toEqual({ start: 6, query: 'be' });
    expect(mentionQueryAt('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionQueryAt('mail a@b', 8)).toBeNull();
    expect(mentionQueryAt('@ben done', 9)).toBeNull();
  });

  it('keeps only the picked users still named in the text', () => {
    const picked = new Map([
      ['u1', 'Ben'],
      ['u2', 'Cy'],
    ]);
    expect(mentionedIn('hi @Ben', picked)).toEqual(['u1']);
    expect(mentionedIn('hi @Ben and @Cy', picked)).toEqual(['u1', 'u2']);
  });
});
