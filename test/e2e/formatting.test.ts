import { expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { messageRow, screenshot, send, twoUsersInRoom, describeInBrowser } from './support/appPage.ts';

/** Set by any of the injection attempts below if one ever ran. */
const pwned = (page: Page): Promise<unknown> => page.evaluate(() => Reflect.get(window, '__pwned'));

describeInBrowser('web app: message formatting', (suite) => {
  it('the other user sees the Markdown subset rendered, raw HTML as text, links safe, emoji large and long messages collapsed', async () => {
    const { a, b } = await twoUsersInRoom(suite, 'formatting');

    await send(a.page, '**bold** _it_ ~~gone~~ `code`');
    await send(a.page, '```\nconst fenced = 1;\n```');
    await send(a.page, '> quoted reply');
    await send(a.page, '- apples\n- pears');
    await send(a.page, 'docs at https://example.com/guide');
    await send(a.page, '<script>window.__pwned=1</script>');
    await send(a.page, 'image <img src=x onerror="window.__pwned=2"> here');
    await send(a.page, '[click me](javascript:window.__pwned=3)');
    await send(a.page, '🎉🚀');
    const long = `Long read start. ${'All work and no play makes a long message. '.repeat(120)}Long read end.`;
    expect(long.length).toBeGreaterThan(5_000);
    await send(a.page, long);

    const inline = messageRow(b.page, 'bold it gone code');
    await inline.locator('strong', { hasText: 'bold' }).waitFor();
    await inline.locator('em', { hasText: 'it' }).waitFor();
    await inline.locator('s, del').filter({ hasText: 'gone' }).waitFor();
    await inline.locator('code', { hasText: 'code' }).waitFor();
    await messageRow(b.page, 'const fenced = 1;').locator('pre > code').waitFor();
    await messageRow(b.page, 'quoted reply').locator('blockquote', { hasText: 'quoted reply' }).waitFor();
    const list = messageRow(b.page, 'apples').locator('ul');
    await list.waitFor();
    expect(await list.locator('li').allInnerTexts()).toEqual(['apples', 'pears']);

    const link = messageRow(b.page, 'docs at').locator('a', { hasText: 'https://example.com/guide' });
    await link.waitFor();
    expect(await link.getAttribute('href')).toBe('https://example.com/guide');
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');

    // Raw HTML arrives as the text the sender typed: visible, inert, and no element made of it.
    const script = messageRow(b.page, '<script>window.__pwned=1</script>');
    await script.locator('.content').getByText('<script>window.__pwned=1</script>').waitFor();
    expect(await script.locator('script').count()).toBe(0);
    const image = messageRow(b.page, 'onerror=');
    await image.locator('.content').getByText('<img src=x onerror="window.__pwned=2">', { exact: false }).waitFor();
    expect(await image.locator('img').count()).toBe(0);
    const scheme = messageRow(b.page, 'click me');
    await scheme.waitFor();
    expect(await scheme.locator('a').count()).toBe(0);
    expect(await pwned(b.page)).toBeUndefined();
    expect(await pwned(a.page)).toBeUndefined();

    await messageRow(b.page, '🎉🚀').locator('.content.jumbo').waitFor();
    // Ordinary text is not jumbo.
    expect(await messageRow(b.page, 'quoted reply').locator('.content.jumbo').count()).toBe(0);

    // The long message is clamped with "Show more"; the button works from the keyboard.
    const longRow = messageRow(b.page, 'Long read start.');
    const content = longRow.locator('.content');
    const more = longRow.getByRole('button', { name: 'Show more' });
    await more.waitFor();
    expect(await more.getAttribute('aria-expanded')).toBe('false');
    expect(await content.evaluate((el) => el.scrollHeight > el.clientHeight)).toBe(true);
    await screenshot(b.page, 'formatting');
    await more.focus();
    await more.press('Enter');
    const less = longRow.getByRole('button', { name: 'Show less' });
    await less.waitFor();
    expect(await less.getAttribute('aria-expanded')).toBe('true');
    expect(await content.evaluate((el) => el.scrollHeight <= el.clientHeight)).toBe(true);
    await less.press('Enter');
    await more.waitFor();
    expect(await content.evaluate((el) => el.scrollHeight > el.clientHeight)).toBe(true);

    // The sender edits the raw source, not the rendered HTML.
    // By id: while editing, the row's text is in the edit box, so a text filter no longer finds it.
    const ownId = await messageRow(a.page, 'bold it gone code').getAttribute('data-message-id');
    const own = a.page.locator(`parley-message[data-message-id="${ownId}"]`);
    await own.hover();
    await own.getByRole('button', { name: 'Edit message' }).click();
    const editor = own.getByLabel('Edit message');
    expect(await editor.inputValue()).toBe('**bold** _it_ ~~gone~~ `code`');
    await editor.fill('**bolder** now');
    await editor.press('Enter');
    await messageRow(b.page, 'bolder now').locator('strong', { hasText: 'bolder' }).waitFor();

    await a.context.close();
    await b.context.close();
  });
});
