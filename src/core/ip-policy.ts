// Which IP addresses an outbound connection (URL previews, federation) may
// reach: anything not in the blacklist, unless the whitelist names it
// (Synapse's check_against_blacklist). IPv4-mapped IPv6 addresses match IPv4
// ranges. Pure data: the callers apply it after they resolve a name.
import { BlockList, isIP } from 'node:net';

function blockListOf(ranges: readonly string[]): BlockList {
  const list = new BlockList();
  for (const range of ranges) {
    const [address = '', prefix] = range.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    list.addSubnet(address, Number(prefix ?? (family === 'ipv6' ? 128 : 32)), family);
  }
  return list;
}

export class IpPolicy {
  private readonly blacklist: BlockList;
  private readonly whitelist: BlockList;

  constructor(blacklist: readonly string[], whitelist: readonly string[]) {
    this.blacklist = blockListOf(blacklist);
    this.whitelist = blockListOf(whitelist);
  }

  isBlocked(address: string): boolean {
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    return this.blacklist.check(address, family) && !this.whitelist.check(address, family);
  }
}
