// Why a call never reached the coordinator, in words: grpc-js reports it as UNAVAILABLE with
// text like "No connection established. Last error: Error: 40...:SSL routines:...:wrong version
// number:../deps/openssl/...". The user gets one sentence: what happened and what to do.
import { DEFAULT_COORDINATOR_PORT } from '../constants.ts';

interface Cause {
  test: RegExp;
  say: (target: string) => string;
}

const CHECK = '(--coordinator, or the address in the admin config or agent settings)';

const CAUSES: Cause[] = [
  { test: /ECONNREFUSED/, say: (t) => `nothing listens on ${t} (connection refused): check that the coordinator runs there and the address ${CHECK}` },
  {
    test: /wrong version number|packet length too long|unknown protocol|record layer failure|http_request|Protocol error|EPROTO|unexpected eof|Received HTTP/i,
    say: (t) => `something answers on ${t}, but it is not a muster coordinator (it does not speak TLS and gRPC): check the port; the coordinator listens on ${DEFAULT_COORDINATOR_PORT} unless --listen says otherwise`,
  },
  { test: /Name resolution failed|ENOTFOUND|EAI_AGAIN|getaddrinfo/i, say: (t) => `the host name in ${t} does not resolve: check the address ${CHECK} and DNS` },
  { test: /EHOSTUNREACH|ENETUNREACH|No route/i, say: (t) => `there is no route to ${t}: check the address ${CHECK} and the network` },
  { test: /ETIMEDOUT|Deadline exceeded|deadline/i, say: (t) => `no answer from ${t} in time: check the address ${CHECK} and any firewall in between; if the coordinator is busy, retry` },
  { test: /ECONNRESET|socket hang up|Connection dropped|closed/i, say: (t) => `${t} closed the connection before answering: check that it is the coordinator's address; if it is restarting, retry` },
];

/** "coordinator at HOST:PORT is unreachable: <cause and remedy>". */
export function unreachableMessage(details: string, target: string): string {
  const cause = CAUSES.find((c) => c.test.test(details));
  if (cause) return `coordinator at ${target} is unreachable: ${cause.say(target)}`;
  // Unknown: grpc-js's text without its boilerplate and OpenSSL's file names.
  const short = details.replace(/^No connection established\. Last error: (Error: )?/, '').replace(/\. Resolution note:.*$/s, '').replace(/:\.\.\/deps\/\S+/g, '').trim();
  return `coordinator at ${target} is unreachable (${short || 'no connection'}); check the address ${CHECK}, or retry later`;
}
