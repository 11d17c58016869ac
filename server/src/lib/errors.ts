/** A field-level problem reported with a validation error. */
export interface FieldError {
  field: string;
  message: string;
}

/**
 * The one error type of the server. `code` is a stable identifier that clients branch on
 * (the console translates by code); `message` is for humans and may change.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly errors?: FieldError[],
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what: string, code = `${what}_not_found`) =>
  new AppError(code, 404, `${what.replace(/_/g, ' ')} not found`);

export const forbidden = (message = 'You do not have permission to do this') =>
  new AppError('forbidden', 403, message);

export const invalid = (field: string, message: string, code = 'validation_failed') =>
  new AppError(code, 400, message, [{ field, message }]);

export const conflict = (code: string, message: string) => new AppError(code, 409, message);
