import { html, type TemplateResult } from 'lit';

/**
 * What the message list shows above its oldest row: more to load, a room this device has not
 * synced yet (the room list says it has messages), or the start of the conversation.
 */
export function listEdge(hasOlder: boolean, empty: boolean, expectsMessages: boolean): TemplateResult {
  if (hasOlder) return html`<div class="edge" aria-hidden="true">Loading earlier messages…</div>`;
  if (empty && expectsMessages) return html`<div class="start" data-testid="not-synced"><p>This room's messages are not on this device yet; they appear once it syncs.</p></div>`;
  return html`<div class="start"><h2>This is the start of the conversation</h2><p>Messages are kept on this device and synced when you are online.</p></div>`;
}
