/**
 * A write refused because another node has taken one of its documents since this node took it
 * (its fencing token is no longer the document's): nothing of the write was stored. The node
 * must give the documents up; their clients reconnect to the new owner and resend what was not
 * acknowledged.
 */
export class FencedOutError extends Error {
  readonly docNames: readonly string[];

  constructor(docNames: readonly string[]) {
    super(`fenced out: another node owns ${docNames.join(', ')} now`);
    this.name = 'FencedOutError';
    this.docNames = docNames;
  }
}
