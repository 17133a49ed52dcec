// The coordinator's own names and addresses (its serving certificate's SANs). A node may not
// join under one of them nor report one as its address: peers, hosts files and operators would
// then take the coordinator for that node, or the node for the coordinator.
import { canonicalIp } from '../../shared/net/ip.ts';

export class CoordinatorNames {
  readonly #dns: Set<string>;
  readonly #ips: Set<string>;

  constructor(names: { dns: readonly string[]; ips: readonly string[] }) {
    this.#dns = new Set(names.dns.map((n) => n.toLowerCase()));
    this.#ips = new Set(names.ips.map(canonicalIp));
  }

  /** Why `name` / `address` collide with the coordinator, or null. */
  collision(name: string, address: string): string | null {
    if (this.#dns.has(name.toLowerCase()) || this.#ips.has(canonicalIp(name))) {
      return `node name ${name} is one of the coordinator's own names or addresses; give the node another name with --node-name`;
    }
    const a = this.addressCollision(address);
    return a;
  }

  addressCollision(address: string): string | null {
    if (address && this.#ips.has(canonicalIp(address))) {
      return `address ${address} is one of the coordinator's own addresses; pass the node's own address with --address (a node on the coordinator's host needs an address of its own)`;
    }
    return null;
  }
}
