/** A failure the CLI reports as one line on stderr, then exits with `exitCode` (2: bad usage, 1: failed). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}
