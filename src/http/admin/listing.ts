// Query parameters Synapse's admin list endpoints share: from/limit paging
// and order_by/dir ordering.
import { invalidParam } from '../../core/errors.js';
import { queryInteger, queryString } from '../validate.js';

export interface ListPaging<Order extends string> {
  from: number;
  limit: number;
  orderBy: Order;
  direction: 'f' | 'b';
}

/** Paging and order from the query; `orders` holds the order_by values the list knows. */
export function listPaging<Order extends string>(query: URLSearchParams, orders: Readonly<Record<Order, unknown>>, defaultOrder: Order, defaultLimit: number): ListPaging<Order> {
  const orderBy = queryString(query, 'order_by') ?? defaultOrder;
  if (!Object.hasOwn(orders, orderBy)) {
    throw invalidParam(`Unknown value for order_by: '${orderBy}'; use one of ${Object.keys(orders).join(', ')}`);
  }
  return { ...listPage(query, defaultLimit), orderBy: orderBy as Order };
}

/** from, limit and dir alone, for lists in one fixed order. */
export function listPage(query: URLSearchParams, defaultLimit: number): Omit<ListPaging<never>, 'orderBy'> {
  const direction = queryString(query, 'dir') ?? 'f';
  if (direction !== 'f' && direction !== 'b') throw invalidParam(`Unknown value for dir: '${direction}'; use 'f' (forwards) or 'b' (backwards)`);
  return {
    from: queryInteger(query, 'from', { min: 0 }) ?? 0,
    limit: queryInteger(query, 'limit', { min: 1 }) ?? defaultLimit,
    direction,
  };
}
