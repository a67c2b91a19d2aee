/**
 * Whether two encoded Yjs state vectors are the same state. Yjs writes a state vector's clients
 * sorted (writeStateVector), so one state has one encoding and the bytes answer it.
 */
export function sameStateVector(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
