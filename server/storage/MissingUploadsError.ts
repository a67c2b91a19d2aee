/**
 * A write refused because messages in it name uploads whose records are gone (garbage collection
 * removed them after the validator read them: docs/scale-out.md, "Attachment garbage collection"):
 * nothing of the write was stored. The documents whose updates name them fail; their clients
 * reconnect and resend, and the validator, reading the records afresh, refuses those messages.
 */
export class MissingUploadsError extends Error {
  /** The documents whose updates name a missing upload. */
  readonly docNames: readonly string[];
  readonly attachmentIds: readonly string[];

  constructor(docNames: readonly string[], attachmentIds: readonly string[]) {
    super(`uploads gone: ${attachmentIds.join(', ')} (named in ${docNames.join(', ')})`);
    this.name = 'MissingUploadsError';
    this.docNames = docNames;
    this.attachmentIds = attachmentIds;
  }
}
