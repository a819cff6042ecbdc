// The one error type configuration problems are reported with. Its message
// is a single line an operator can act on (ARCHITECTURE.md, "Conventions"):
// the CLI prints it as is, without a stack trace, and exits with code 2.

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** A value as the operator wrote it, short enough for a one-line message. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}
