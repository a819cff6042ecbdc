// Matches a request path and method to a Route.
//
// Paths are compared segment by segment: a literal segment matches itself, a
// `{name}` segment matches any one segment (possibly empty, e.g. the empty
// state key in PUT /rooms/{roomId}/state/{eventType}/), never across '/'.
// Routes live in a trie keyed by segment, so a lookup costs one map probe per
// segment (plus backtracking only where a literal and a parameter compete),
// however many routes there are.
//
// A path that some route matches with another method is 405 M_UNRECOGNIZED; a
// path no route matches is 404 M_UNRECOGNIZED (client-server-api/_index.md,
// "Common error codes": M_UNRECOGNIZED).
import { MatrixError, unrecognized } from '../core/errors.js';
import type { Route } from './types.js';

type Method = Route['method'];

interface Endpoint {
  route: Route;
  /** Parameter name for each parameter segment, in order. */
  paramNames: string[];
}

interface Node {
  literals: Map<string, Node>;
  param: Node | undefined;
  /** Routes ending at this node, by method. */
  endpoints: Map<Method, Endpoint>;
}

export type RouteMatch = { route: Route; params: Record<string, string> };

const newNode = (): Node => ({ literals: new Map(), param: undefined, endpoints: new Map() });

const PARAM_SEGMENT = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

const V3_PREFIX = /^(\/_matrix\/(?:client|media)\/)v3\//;

/**
 * The version prefixes a route is also served under. Synapse answers the
 * legacy r0 prefix for nearly every v3 client and media endpoint, and older
 * clients still call it, so that is the default; a route opts out with
 * `aliasVersions: []`.
 */
function aliasPaths(route: Route): string[] {
  const isV3 = V3_PREFIX.test(route.path);
  const versions = route.aliasVersions ?? (isV3 ? ['r0'] : []);
  if (versions.length === 0) return [];
  if (!isV3) {
    throw new Error(`route ${route.method} ${route.path} lists aliasVersions, but only /_matrix/client/v3 and /_matrix/media/v3 paths can have aliases`);
  }
  return versions.map((v) => route.path.replace(V3_PREFIX, `$1${v}/`));
}

/** Splits a raw URL path into percent-decoded segments; throws 400 on bad encoding. */
export function pathSegments(rawPath: string): string[] {
  const raw = rawPath.split('/').slice(1);
  return raw.map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid percent-encoding in the request path: '${segment}'`);
    }
  });
}

export class Router {
  private readonly root = newNode();

  constructor(routes: Iterable<Route>) {
    for (const route of routes) {
      this.add(route, route.path);
      for (const alias of aliasPaths(route)) this.add(route, alias);
    }
  }

  private add(route: Route, path: string): void {
    if (!path.startsWith('/')) throw new Error(`route path must start with '/': ${path}`);
    let node = this.root;
    const paramNames: string[] = [];
    for (const segment of path.split('/').slice(1)) {
      const param = PARAM_SEGMENT.exec(segment);
      if (param) {
        paramNames.push(param[1]!);
        node.param ??= newNode();
        node = node.param;
      } else {
        if (segment.includes('{') || segment.includes('}')) throw new Error(`route ${path}: a parameter must be a whole segment ('${segment}')`);
        let next = node.literals.get(segment);
        if (!next) node.literals.set(segment, (next = newNode()));
        node = next;
      }
    }
    if (node.endpoints.has(route.method)) throw new Error(`two routes for ${route.method} ${path}`);
    node.endpoints.set(route.method, { route, paramNames });
  }

  /**
   * The route for `method` at the already-decoded `segments`, or a MatrixError
   * to send: 404 when nothing matches the path, 405 when only the method is
   * wrong. HEAD is answered by the GET route.
   */
  match(method: string, segments: string[]): RouteMatch | MatrixError {
    const wanted = (method === 'HEAD' ? 'GET' : method) as Method;
    let pathKnown = false;
    // Depth-first over the trie, literals before parameters, so the most
    // specific route wins when both could match.
    const visit = (node: Node, index: number, values: string[]): RouteMatch | undefined => {
      if (index === segments.length) {
        if (node.endpoints.size === 0) return undefined;
        const endpoint = node.endpoints.get(wanted);
        if (!endpoint) {
          pathKnown = true;
          return undefined;
        }
        const params: Record<string, string> = {};
        endpoint.paramNames.forEach((name, i) => (params[name] = values[i]!));
        return { route: endpoint.route, params };
      }
      const segment = segments[index]!;
      const literal = node.literals.get(segment);
      const viaLiteral = literal && visit(literal, index + 1, values);
      if (viaLiteral) return viaLiteral;
      if (!node.param) return undefined;
      values.push(segment);
      const viaParam = visit(node.param, index + 1, values);
      values.pop();
      return viaParam;
    };
    const found = visit(this.root, 0, []);
    if (found) return found;
    return pathKnown ? unrecognized('Unrecognized request', 405) : unrecognized('Unrecognized request');
  }
}
