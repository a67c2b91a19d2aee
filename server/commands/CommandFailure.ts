import type { ErrorCode } from '../../shared/errors/errorCodes.ts';
import type { CommandErrorData } from '../../shared/commands/commandErrorData.ts';

/** An expected failure of a command, answered as `{success: false, error: code, data}`. */
export interface CommandFailure {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly data: CommandErrorData;
}

export const commandFailure = (code: ErrorCode, message: string, extra: Omit<CommandErrorData, 'message'> = {}): CommandFailure => ({
  ok: false,
  code,
  data: { message, ...extra },
});
