// Server access control lists (client-server-api "Server Access Control
// Lists (ACLs) for rooms", m.room.server_acl): which servers may take part
// in a room at the federation level. Applied by the receiving server to
// requests and PDUs (server-server-api "Server Access Control Lists").
import { parseServerName } from './identifiers.js';
import { globMatchesWhole } from './push-rules/glob.js';
import type { JsonObject } from './types.js';

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Whether the ACL content (of the room's current m.room.server_acl, or
 * undefined when it has none) lets `serverName` take part. The port never
 * counts; glob patterns match case-insensitively, as Synapse does.
 */
export function serverAclAllows(acl: JsonObject | undefined, serverName: string): boolean {
  if (acl === undefined) return true;
  const host = parseServerName(serverName)?.host ?? serverName;
  const isIpLiteral = host.startsWith('[') || IPV4.test(host);
  if (isIpLiteral && acl['allow_ip_literals'] === false) return false;
  if (patterns(acl['deny']).some((glob) => globMatchesWhole(glob, host))) return false;
  return patterns(acl['allow']).some((glob) => globMatchesWhole(glob, host));
}

/** The string entries of an allow/deny list; anything else in it is ignored. */
function patterns(list: JsonObject[string] | undefined): string[] {
  return Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string') : [];
}
