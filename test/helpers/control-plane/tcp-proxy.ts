// The plan's load balancer in tests: a TCP proxy, run as its own process inside the load
// balancer's network namespace (`ip netns exec NS node tcp-proxy.ts LISTEN BACKEND...`).
// Like the HAProxy of kubeadm's HA guide (`option httpchk GET /readyz`, `check-ssl verify none`)
// it checks each backend's HTTPS /readyz and sends connections, in turn, only to backends that
// passed their last check (to all of them while none has); a backend that refuses the connection
// is skipped for that one and the next is tried. It prints "listening" once bound, and one line
// per connection it could not place.
import { connect, createServer, type Socket } from 'node:net';
import { request } from 'node:https';

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
const CHECK_EVERY_MS = 500;
const CHECK_TIMEOUT_MS = 2_000;
const healthy = new Set<string>();

function check(b: string): void {
  const { host, port } = split(b);
  const req = request({ host, port, path: '/readyz', method: 'GET', rejectUnauthorized: false, timeout: CHECK_TIMEOUT_MS }, (res) => {
    res.resume();
    if (res.statusCode === 200) healthy.add(b);
    else healthy.delete(b);
  });
  req.on('timeout', () => req.destroy());
  req.on('error', () => healthy.delete(b));
  req.end();
}
setInterval(() => backends.forEach(check), CHECK_EVERY_MS);
backends.forEach(check);

/** The backends to try for a new connection: the healthy ones, or all while none is. */
const candidates = () => {
  const h = backends.filter((b) => healthy.has(b));
  return h.length ? h : backends;
};

function place(client: Socket, tries: number): void {
  const pool = candidates();
  if (tries >= pool.length) {
    process.stdout.write(`no backend took a connection from ${client.remoteAddress}\n`);
    client.destroy();
    return;
  }
  const b = split(pool[next++ % pool.length]!);
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
