import { MAX_ATTACHMENT_NAME_LENGTH } from '../../shared/models/attachment.ts';

/** The name of an upload sent without `?name=`. */
export const DEFAULT_ATTACHMENT_NAME = 'file';

/**
 * The file name an upload is recorded under (AttachmentNameSchema holds it): control characters,
 * slashes and backslashes become `_` (a name never names a path), surrounding blanks go, and a
 * name longer than MAX_ATTACHMENT_NAME_LENGTH is cut without splitting a surrogate pair.
 */
export function attachmentName(raw: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = (raw ?? '').replace(/[\u0000-\u001f\u007f/\\]/g, '_').trim();
  if (cleaned === '') return DEFAULT_ATTACHMENT_NAME;
  let cut = cleaned.slice(0, MAX_ATTACHMENT_NAME_LENGTH);
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return cut === '' ? DEFAULT_ATTACHMENT_NAME : cut;
}
