/**
 * The composer's `send` event: `detail` is the text, as listeners of a plain CustomEvent<string>
 * read it; `mentionedUsers` the user ids picked with `@` whose `@Name` is still in the text.
 */
export class ComposerSendEvent extends CustomEvent<string> {
  readonly mentionedUsers: readonly string[];

  constructor(content: string, mentionedUsers: readonly string[]) {
    super('send', { detail: content });
    this.mentionedUsers = mentionedUsers;
  }
}
