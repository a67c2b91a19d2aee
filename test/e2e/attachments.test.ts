import sharp from 'sharp';
import { expect, it } from 'vitest';
import { UI_TIMEOUT, messageRow, screenshot, twoUsersInRoom, describeInBrowser } from './support/appPage.ts';

/** A 640×400 PNG, drawn by sharp (the server sniffs and thumbnails real bytes). */
const png = (): Promise<Buffer> =>
  sharp({ create: { width: 640, height: 400, channels: 3, background: { r: 40, g: 120, b: 220 } } })
    .png()
    .toBuffer();

describeInBrowser('web app: attachments', (suite) => {
  it('Ana attaches an image offline with a caption; it waits under the messages; back online it uploads and Ben sees the image inline and opens it in the lightbox', async () => {
    const { a, b } = await twoUsersInRoom(suite, 'photos');
    await a.context.setOffline(true);
    await a.page.locator('[data-testid="connection-banner"][data-state="offline"]').waitFor();

    await a.page.getByTestId('file-input').setInputFiles({ name: 'harbour.png', mimeType: 'image/png', buffer: await png() });
    await a.page.getByTestId('draft-file').filter({ hasText: 'harbour.png' }).waitFor();
    const box = a.page.getByLabel('Message', { exact: true });
    await box.fill('The harbour this morning');
    await box.press('Enter');
    await a.page.getByTestId('draft-file').waitFor({ state: 'detached' });
    const waiting = a.page.getByTestId('pending-upload').filter({ hasText: 'harbour.png' });
    await waiting.filter({ hasText: 'Waiting for the network' }).waitFor();
    await screenshot(a.page, 'attachment-waiting-offline');

    await a.context.setOffline(false);
    await waiting.waitFor({ state: 'detached', timeout: 30_000 });
    const mine = messageRow(a.page, 'The harbour this morning');
    await mine.getByTestId('attachment-image').waitFor({ timeout: UI_TIMEOUT });

    const row = messageRow(b.page, 'The harbour this morning');
    const image = row.getByTestId('attachment-image');
    await image.locator('img').waitFor({ timeout: UI_TIMEOUT });
    // The thumbnail loaded (a blob: URL fetched with Ben's token) in a box of the image's shape.
    await expect.poll(() => image.locator('img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    const shape = await image.boundingBox();
    expect(shape && Math.round((shape.width / shape.height) * 10) / 10).toBe(1.6);
    await screenshot(b.page, 'attachment-inline');

    await image.click();
    const lightbox = b.page.getByTestId('lightbox');
    await lightbox.locator('img').waitFor({ timeout: UI_TIMEOUT });
    expect(await lightbox.locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(640);
    await screenshot(b.page, 'attachment-lightbox');
    await b.page.keyboard.press('Escape');
    await lightbox.locator('img').waitFor({ state: 'detached' });
  });

  it('Ben sends an HTML file; Ana sees a file chip and downloads the same bytes', async () => {
    const { a, b } = await twoUsersInRoom(suite, 'files');
    const html = '<!doctype html><script>alert("hi")</script><p>report</p>';
    await b.page.getByTestId('file-input').setInputFiles({ name: 'report.html', mimeType: 'text/html', buffer: Buffer.from(html) });
    const box = b.page.getByLabel('Message', { exact: true });
    await box.press('Enter');
    const chip = a.page.locator('parley-message').getByTestId('attachment-file').filter({ hasText: 'report.html' });
    await chip.waitFor({ timeout: UI_TIMEOUT });
    await screenshot(a.page, 'attachment-file-chip');
    const [download] = await Promise.all([a.page.waitForEvent('download'), chip.getByRole('button', { name: 'Download report.html' }).click()]);
    expect(download.suggestedFilename()).toBe('report.html');
    const stream = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe(html);
  });

  it('a file dropped on the room and an image pasted into the composer go out together; the other side gets both', async () => {
    const { a, b } = await twoUsersInRoom(suite, 'drop-and-paste');
    const image = (await png()).toString('base64');
    // Built in the page (string scripts: the test's own functions do not survive the trip).
    await a.page.evaluate(`(() => {
      const view = document.querySelector('parley-app').shadowRoot.querySelector('parley-room-view').shadowRoot;
      const dropped = new DataTransfer();
      dropped.items.add(new File(['minutes of the meeting'], 'minutes.txt', { type: 'text/plain' }));
      const main = view.querySelector('section.main');
      main.dispatchEvent(new DragEvent('dragover', { dataTransfer: dropped, bubbles: true, cancelable: true, composed: true }));
      main.dispatchEvent(new DragEvent('drop', { dataTransfer: dropped, bubbles: true, cancelable: true, composed: true }));
      const bytes = Uint8Array.from(atob('${image}'), (c) => c.charCodeAt(0));
      const pasted = new DataTransfer();
      pasted.items.add(new File([bytes], 'screenshot.png', { type: 'image/png' }));
      const area = view.querySelector('parley-composer').shadowRoot.querySelector('textarea');
      area.dispatchEvent(new ClipboardEvent('paste', { clipboardData: pasted, bubbles: true, cancelable: true, composed: true }));
    })()`);
    const drafts = a.page.getByTestId('draft-file');
    await expect.poll(() => drafts.count()).toBe(2);
    await a.page.getByLabel('Message', { exact: true }).fill('notes and a screenshot');
    await a.page.getByLabel('Message', { exact: true }).press('Enter');
    const row = messageRow(b.page, 'notes and a screenshot');
    await row.getByTestId('attachment-file').filter({ hasText: 'minutes.txt' }).waitFor({ timeout: UI_TIMEOUT });
    await row.getByTestId('attachment-image').locator('img').waitFor({ timeout: UI_TIMEOUT });
  });
});
