/** "Ana is typing…", "Ana and Bob are typing…", "Ana, Bob and 2 others are typing…", or '' for nobody. */
export function typingLine(names: readonly string[]): string {
  const [first, second] = names;
  if (first === undefined) return '';
  if (second === undefined) return `${first} is typing…`;
  if (names.length === 2) return `${first} and ${second} are typing…`;
  const others = names.length - 2;
  return `${first}, ${second} and ${others} ${others === 1 ? 'other' : 'others'} are typing…`;
}
