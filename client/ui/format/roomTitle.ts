/** What a room is called in the list and its header: its name, else the other person of a direct chat. */
export function roomTitle(room: { readonly name: string | null; readonly type: string }, peerName: string | null): string {
  if (room.name) return room.name;
  if (room.type === 'direct') return peerName ?? 'Direct message';
  return 'Untitled room';
}

/**
 * One line of the room list: "You: hi", "Ana: hi", a placeholder for a deleted message, and for
 * files without a caption what was sent ("📎 report.pdf", "🖼 Photo", "📎 3 files").
 */
export function previewLine(
  message: { readonly content: string; readonly is_deleted: boolean; readonly sender_id: string | null; readonly sender_name: string | null; readonly attachments?: readonly { readonly name: string; readonly width: number | null }[] } | null,
  myId: string,
  isDirect: boolean,
): string {
  if (message === null) return 'No messages yet';
  const text = message.is_deleted ? 'Message deleted' : message.content.replace(/\s+/g, ' ').trim() || filesLine(message.attachments ?? []);
  if (message.sender_id === myId) return `You: ${text}`;
  if (isDirect || message.sender_name === null) return text;
  return `${message.sender_name}: ${text}`;
}

function filesLine(files: readonly { readonly name: string; readonly width: number | null }[]): string {
  const [first] = files;
  if (!first) return '';
  if (files.length > 1) return files.every((f) => f.width !== null) ? `🖼 ${files.length} photos` : `📎 ${files.length} files`;
  return first.width !== null ? '🖼 Photo' : `📎 ${first.name}`;
}
