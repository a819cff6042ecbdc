// Every error a client sees is a Matrix error: {"errcode": "M_…", "error": "…"}
// with the status code the spec names (client-server-api/_index.md, "Standard error response").
import type { JsonObject } from './types.js';

export class MatrixError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    /** Extra top-level fields, e.g. retry_after_ms, or the UIA flows on a 401. */
    readonly extra: JsonObject = {},
  ) {
    super(message);
  }

  toJSON(): JsonObject {
    return { ...this.extra, errcode: this.errcode, error: this.message };
  }
}

export const badJson = (message: string): MatrixError => new MatrixError(400, 'M_BAD_JSON', message);
export const missingParam = (message: string): MatrixError => new MatrixError(400, 'M_MISSING_PARAM', message);
export const invalidParam = (message: string): MatrixError => new MatrixError(400, 'M_INVALID_PARAM', message);
export const forbidden = (message: string): MatrixError => new MatrixError(403, 'M_FORBIDDEN', message);
export const notFound = (message: string): MatrixError => new MatrixError(404, 'M_NOT_FOUND', message);
export const unrecognized = (message: string, status = 404): MatrixError => new MatrixError(status, 'M_UNRECOGNIZED', message);
