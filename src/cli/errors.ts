/** A failure the CLI reports as one line, `govhost: <message>`, and exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    /** 1 for a failed request or a missing login, 2 for a command used wrongly. */
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The command line was wrong in a way commander cannot see, e.g. two options that exclude each other. */
export const usageError = (message: string) => new CliError(message, 2);

/** The API answered with a problem document (or something that should have been one). */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(`${detail} (${code})`);
    this.name = 'ApiError';
  }
}
