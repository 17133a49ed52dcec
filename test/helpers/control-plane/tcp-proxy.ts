// The plan's load balancer in tests: a TCP proxy, run as its own process inside the load
// balancer's network namespace (`ip netns exec NS node tcp-proxy.ts LISTEN BACKEND...`).
// Connections go to the backends in turn; a backend that refuses the connection is skipped for
// that one (the next is tried), as a TCP health-checking balancer would. It prints "listening"
// once bound, and one line per connection it could not place.
import { connect, createServer, type Socket } from 'node:net';

const [listen, ...backends] = process.argv.slice(2);
if (!listen || !backends.length) {
  process.stderr.write('usage: tcp-proxy.ts HOST:PORT BACKEND_HOST:PORT...\n');
  process.exit(2);
}
const split = (hp: string) => {
  const i = hp.lastIndexOf(':');
  return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
};
let next = 0;

function place(client: Socket, tries: number): void {
  if (tries >= backends.length) {
    process.stdout.write(`no backend took a connection from ${client.remoteAddress}\n`);
    client.destroy();
    return;
  }
  const b = split(backends[next++ % backends.length]!);
  const upstream = connect({ host: b.host, port: b.port });
  let connected = false;
  upstream.once('connect', () => {
    connected = true;
    client.once('close', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
    client.resume();
  });
  upstream.once('error', () => {
    if (!connected) place(client, tries + 1);
    else client.destroy();
  });
  upstream.once('close', () => { if (connected) client.destroy(); });
  if (tries === 0) client.once('error', () => client.destroy());
}

const server = createServer({ pauseOnConnect: true }, (c) => place(c, 0));
const l = split(listen);
server.listen(l.port, l.host, () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
