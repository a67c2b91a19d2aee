import type { Attachment } from '../../../shared/models/attachment.ts';
import { attachmentUrls } from './AttachmentUrls.ts';

/** Saves an attachment under its name (fetched with the token, then handed to the browser's download). */
export async function downloadAttachment(a: Attachment): Promise<void> {
  const url = await attachmentUrls()?.get(a);
  if (!url) return;
  const link = document.createElement('a');
  link.href = url;
  link.download = a.name;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
}
