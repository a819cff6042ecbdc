// Filters: the parser and matcher (./parse.ts, ./match.ts) and the service
// behind POST/GET /user/{userId}/filter, which stores them per user.
import type { JsonObject, JsonValue } from '../../core/types.js';
import { forbidden, MatrixError, notFound } from '../../core/errors.js';
import type { FilterStore } from '../../storage/user-data/filters.js';
import { parseFilter, type Filter } from './parse.js';

export * from './match.js';
export * from './parse.js';

export class FilterService {
  constructor(private readonly store: FilterStore) {}

  /** Validates and stores a filter for `userId`; returns its ID (a decimal string). */
  async create(requesterId: string, userId: string, definition: JsonObject): Promise<string> {
    if (requesterId !== userId) throw forbidden(`You cannot create filters for ${userId}`);
    parseFilter(definition);
    return String(await this.store.add(userId, definition));
  }

  /** The filter definition as uploaded. */
  async get(requesterId: string, userId: string, filterId: string): Promise<JsonObject> {
    if (requesterId !== userId) throw forbidden(`You cannot read the filters of ${userId}`);
    const definition = /^\d{1,15}$/.test(filterId) ? await this.store.get(userId, Number(filterId)) : undefined;
    if (!definition) throw notFound(`${userId} has no filter '${filterId}'`);
    return definition;
  }

  /**
   * The `filter` query parameter of /sync: inline JSON when it starts with
   * `{` (filter.yaml: filter IDs never do), otherwise an uploaded filter's ID.
   */
  async resolve(userId: string, param: string | undefined): Promise<Filter> {
    if (param === undefined || param === '') return parseFilter({});
    if (param.startsWith('{')) {
      let json: unknown;
      try {
        json = JSON.parse(param);
      } catch {
        throw new MatrixError(400, 'M_NOT_JSON', "The 'filter' parameter starts with '{' but is not valid JSON");
      }
      return parseFilter(json as JsonValue);
    }
    return parseFilter(await this.get(userId, userId, param));
  }
}
