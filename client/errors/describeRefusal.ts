import { UpdateRefusalCodeSchema, type UpdateRefusalCode } from '../../shared/protocol/updateRefusals.ts';

/** What each refusal means to the person who wrote, and what they can do about it. */
const WORDS: Record<UpdateRefusalCode, string> = {
  document_too_large: 'This room is full. An owner or admin can delete old messages to make room; then press Retry.',
  member_quota: 'You have sent a lot to this room in the last hour. Wait a little; it is sent again by itself.',
  over_limit: 'This is over a size limit: the message, its extra data or its reactions are too large or too many.',
  bad_message: 'The server did not accept this message as written (its sender or its date). Discard it and write it again.',
  bad_attachment: 'An attached file was not accepted: it is not one you uploaded to this room, or it is gone. While this device still has the files it sends them again by itself (Retry does it once more); otherwise attach them again.',
  forbidden: 'You are not allowed to make this change in this room.',
  unknown_message: 'The message this change is about is no longer in the room.',
  bad_read_position: 'A read position from this device was not accepted.',
  bad_value: 'This device sent something the server cannot store. Discard it and try again.',
  bad_layout: 'This device sent something the server cannot store. Discard it and try again.',
  malformed_update: 'This device sent something the server could not read. Discard it and try again.',
  missing_dependencies: 'This device is out of step with the server. Discard the unsent changes and try again.',
  client_id_taken: 'This device is out of step with the server. Discard the unsent changes and try again.',
  too_many_client_ids: 'This device is out of step with the server. Discard the unsent changes and try again.',
};

/**
 * A refusal (ChatRoom.refusal, a rejected message's state) in words a person understands, for an
 * app to show; the server's own reason stays available for details. Codes this version does not
 * know get a general sentence with the server's reason.
 */
export function describeRefusal(refusal: { readonly code: string; readonly reason: string }): string {
  if (refusal.code === 'access_denied') return 'You are no longer a member of this room (or it is gone), so this was not sent.';
  const known = UpdateRefusalCodeSchema.safeParse(refusal.code);
  return known.success ? WORDS[known.data] : `The server did not accept this change: ${refusal.reason}`;
}

/** Whether sending the same change again can succeed later (ChatRoom.resend), rather than only discarding it. */
export function refusalMayPass(code: string): boolean {
  return code === 'document_too_large' || code === 'member_quota';
}
