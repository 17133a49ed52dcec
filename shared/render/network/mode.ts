// The plan's pod network mode, read once: "overlay" (IP-in-IP or VXLAN tunnels) or "routed" (BGP,
// no encapsulation). Anything else is refused by plan validation; the default is the seed's.
import type { RenderContext } from '../context.ts';

export type NetworkMode = 'overlay' | 'routed';

export function networkMode(ctx: RenderContext): NetworkMode {
  return ctx.a.networking?.type === 'routed' ? 'routed' : 'overlay';
}
