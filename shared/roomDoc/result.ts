/** Expected failures of room document operations; bugs throw instead. */
export type RoomDocErrorCode = 'invalid_payload' | 'conflict' | 'not_found' | 'forbidden' | 'deleted';

export interface Failure<C extends RoomDocErrorCode> {
  readonly ok: false;
  readonly code: C;
  readonly message: string;
}

export type Result<C extends RoomDocErrorCode, T extends object = object> = ({ readonly ok: true } & T) | Failure<C>;

export const failure = <C extends RoomDocErrorCode>(code: C, message: string): Failure<C> => ({ ok: false, code, message });

/** The first problem zod found, as a one-line message for a failure value. */
export function describeIssues(issues: ReadonlyArray<{ readonly path: ReadonlyArray<PropertyKey>; readonly message: string }>): string {
  const first = issues[0];
  if (first === undefined) return 'invalid value';
  const path = first.path.map(String).join('.');
  return path === '' ? first.message : `${path}: ${first.message}`;
}
