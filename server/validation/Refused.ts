import type { UpdateRefusal, UpdateRefusalCode } from '../../shared/protocol/updateRefusals.ts';

/** Thrown inside the validator to stop at the first refusal; never escapes validateUpdate. */
export class Refused extends Error implements UpdateRefusal {
  readonly code: UpdateRefusalCode;
  readonly reason: string;

  constructor(code: UpdateRefusalCode, reason: string) {
    super(`${code}: ${reason}`);
    this.name = 'Refused';
    this.code = code;
    this.reason = reason;
  }
}
