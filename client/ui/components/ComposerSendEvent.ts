/**
 * The composer's `send` event: `detail` is the text, as listeners of a plain CustomEvent<string>
 * read it; `mentionedUsers` the user ids picked with `@` whose `@Name` is still in the text;
 * `files` what was attached (picked, pasted or dropped), sent with the text as its caption.
 */
export class ComposerSendEvent extends CustomEvent<string> {
  readonly mentionedUsers: readonly string[];
  readonly files: readonly File[];

  constructor(content: string, mentionedUsers: readonly string[], files: readonly File[] = []) {
    super('send', { detail: content });
    this.mentionedUsers = mentionedUsers;
    this.files = files;
  }
}
