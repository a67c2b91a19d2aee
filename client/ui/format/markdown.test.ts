import { describe, expect, it } from 'vitest';
import { RENDER_CACHE_SIZE, createMessageRenderer, markdownToHtml, mayNeedMarkdown, renderMessage, sanitizeMessageHtml } from './markdown.ts';

// Vitest runs in Node, without a DOM: DOMPurify is checked in the browser (test/e2e/formatting.test.ts).

describe('markdownToHtml', () => {
  it('renders the inline subset: bold, italic, strike and code', () => {
    expect(markdownToHtml('**bold** _it_ *also* ~~gone~~ `x < y`')).toBe('<p><strong>bold</strong> <em>it</em> <em>also</em> <s>gone</s> <code>x &lt; y</code></p>\n');
  });

  it('renders fenced code, quotes, and both kinds of list (keeping the first number)', () => {
    expect(markdownToHtml('```\nif (a) {\n  b();\n}\n```')).toBe('<pre><code>if (a) {\n  b();\n}\n</code></pre>\n');
    expect(markdownToHtml('> quoted\n> twice')).toBe('<blockquote>\n<p>quoted<br>\ntwice</p>\n</blockquote>\n');
    expect(markdownToHtml('- one\n- two')).toBe('<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n');
    expect(markdownToHtml('3. three\n4. four')).toBe('<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>\n');
  });

  it('turns single newlines into line breaks, as a chat composer means them', () => {
    expect(markdownToHtml('first\nsecond')).toBe('<p>first<br>\nsecond</p>\n');
  });

  it('escapes raw HTML instead of passing it through', () => {
    expect(markdownToHtml('<script>window.__pwned=1</script>')).toBe('<p>&lt;script&gt;window.__pwned=1&lt;/script&gt;</p>\n');
    expect(markdownToHtml('<img src=x onerror="alert(1)">')).toBe('<p>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</p>\n');
    expect(markdownToHtml('<div>\n\n*x*\n\n</div>')).not.toContain('<div>');
  });

  it('leaves headings, images, tables, rules, indented code and reference definitions as text', () => {
    const html = markdownToHtml('# Title\n\n![alt](https://example.com/a.png)\n\n| a | b |\n|---|---|\n\n---\n\n    indented\n\n[r]: https://example.com\n[r]');
    expect(html).not.toMatch(/<(h\d|img|table|hr)\b/);
    expect(html).not.toContain('<pre>');
    expect(html).toContain('# Title');
    expect(html).toContain('| a | b |');
    expect(html).toContain('[r]');
  });

  it('links http(s) and mailto, explicit or bare, opening in a new tab without an opener', () => {
    expect(markdownToHtml('[docs](https://example.com/docs)')).toBe('<p><a href="https://example.com/docs" target="_blank" rel="noopener noreferrer">docs</a></p>\n');
    expect(markdownToHtml('see https://example.com/a?b=1 now')).toBe('<p>see <a href="https://example.com/a?b=1" target="_blank" rel="noopener noreferrer">https://example.com/a?b=1</a> now</p>\n');
    expect(markdownToHtml('<http://example.com>')).toContain('<a href="http://example.com" target="_blank" rel="noopener noreferrer">');
    expect(markdownToHtml('ana@example.com')).toContain('<a href="mailto:ana@example.com" target="_blank" rel="noopener noreferrer">ana@example.com</a>');
  });

  it('never links javascript:, data:, relative, protocol-relative or ftp URLs', () => {
    for (const source of ['[x](javascript:alert(1))', '[x](JaVaScRiPt:alert(1))', '[x](data:text/html,hi)', '[x](/rooms)', '[x](//evil.example)', '<javascript:alert(1)>', 'ftp://example.com/file', '[x](vbscript:msgbox)']) {
      expect(markdownToHtml(source), source).not.toContain('<a');
    }
  });
});

describe('mayNeedMarkdown', () => {
  it('is false for ordinary chat text, which then skips markdown-it', () => {
    for (const text of ['Morning! The new onboarding flow is ready for review.', 'Kick-off at 10', 'typo: the second screen says "Contiue"', 'two\nlines', 'a - b + c = 3. done', '🎉🎉']) {
      expect(mayNeedMarkdown(text), text).toBe(false);
    }
  });

  it('is true whenever markdown-it would render something other than the text itself', () => {
    for (const text of ['**b**', '_i_', '~~s~~', '`c`', '> q', '- item', '  + item', '* item', '1. item', '2) item', '[a](https://x.example)', '<https://x.example>', 'a &amp; b', 'not \\*emphasis\\*', 'go to https://example.com', 'mail ana@example.com']) {
      expect(mayNeedMarkdown(text), text).toBe(true);
    }
  });

  it('agrees with markdown-it: whatever it says needs no Markdown renders as one plain paragraph', () => {
    const escape = (s: string): string => s.replaceAll('&', '&amp;').replaceAll('"', '&quot;');
    for (const text of ['Kick-off at 10', 'price: 3 euros', 'a - b', 'question? yes! (maybe)', 'Über straße #1 café', 'x = y / 2 % 3', '"quoted" \'single\'']) {
      expect(mayNeedMarkdown(text), text).toBe(false);
      expect(markdownToHtml(text)).toBe(`<p>${escape(text)}</p>\n`);
    }
  });
});

describe('createMessageRenderer', () => {
  const counting = () => {
    const calls: string[] = [];
    const render = createMessageRenderer((html) => {
      calls.push(html);
      return `clean:${html}`;
    }, 3);
    return { calls, render };
  };

  it('renders Markdown through the sanitiser and plain text without either', () => {
    const { calls, render } = counting();
    expect(render('m1', 'hello there')).toEqual({ html: null, jumbo: false, long: false });
    expect(calls).toEqual([]);
    expect(render('m2', '**hi**')).toEqual({ html: 'clean:<p><strong>hi</strong></p>\n', jumbo: false, long: false });
    expect(calls).toEqual(['<p><strong>hi</strong></p>\n']);
  });

  it('marks emoji-only messages jumbo (plain text) and long ones collapsible', () => {
    const { calls, render } = counting();
    expect(render('e', ' 🎉 👍🏽 ')).toEqual({ html: null, jumbo: true, long: false });
    expect(render('l', '**x** '.repeat(400)).long).toBe(true);
    expect(calls).toHaveLength(1);
  });

  it('never parses an unchanged message twice, and re-renders at once when its content changes', () => {
    const { calls, render } = counting();
    const first = render('m', '**v1**');
    expect(render('m', '**v1**')).toBe(first);
    expect(calls).toHaveLength(1);
    const edited = render('m', '**v2**');
    expect(edited.html).toBe('clean:<p><strong>v2</strong></p>\n');
    expect(calls).toHaveLength(2);
  });

  it('is bounded: past its capacity the least recently used message is dropped', () => {
    const { calls, render } = counting();
    const a = render('a', '*a*');
    render('b', '*b*');
    render('c', '*c*');
    expect(render('a', '*a*')).toBe(a); // a is now the most recent; b the eldest
    render('d', '*d*');
    expect(calls).toHaveLength(4);
    expect(render('a', '*a*')).toBe(a);
    expect(render('c', '*c*').html).toBe('clean:<p><em>c</em></p>\n');
    expect(calls).toHaveLength(4);
    render('b', '*b*');
    expect(calls).toHaveLength(5);
  });

  it('the app renderer holds more than the 200-row window', () => {
    expect(RENDER_CACHE_SIZE).toBeGreaterThan(200);
  });
});

describe('sanitizeMessageHtml without a DOM', () => {
  it('refuses (null) rather than passing HTML through unsanitised, so the app falls back to plain text', () => {
    expect(sanitizeMessageHtml('<p>x</p>')).toBeNull();
    expect(renderMessage('no-dom', '**bold** <b>raw</b>')).toEqual({ html: null, jumbo: false, long: false });
  });
});
