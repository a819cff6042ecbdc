// Errors the CLI reports as one line without a stack trace. Exit codes:
// 2 for what the operator must fix (configuration, files, usage), 1 for a
// failed operation (e.g. the server refused a registration).

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
