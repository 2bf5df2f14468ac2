/**
 * A small Authelia-style auth service on a loopback address, for forwardAuth traffic tests. It
 * decides on the `session` cookie of the original request (the proxy passes the client's headers):
 * - `session=alice`: 200 with Remote-User / Remote-Groups (and a header that must not be copied);
 * - `session=mallory`: 403;
 * - `session=redirect`: 302 to the login (as Authelia's ForwardAuth endpoint answers browsers);
 * - `session=slow`: answers after 3 s (past a short timeout);
 * - `session=broken`: 500;
 * - none: 401 with `Location` to the login carrying the original URL (Authelia's AuthRequest
 *   endpoint), or without Location and with WWW-Authenticate when the client sent `X-No-Redirect`.
 * It records every ask it received, so tests can see what the proxy told it.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export const LOGIN = 'https://login.test/';

export interface AuthService {
  readonly port: number;
  readonly asks: { readonly url: string; readonly method: string; readonly headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

function session(cookie: string | undefined): string | undefined {
  return /(?:^|;\s*)session=([^;]*)/.exec(cookie ?? '')?.[1];
}

export async function startAuthService(ip: string, port: number): Promise<AuthService> {
  const asks: AuthService['asks'][number][] = [];
  const server = createServer((req, res) => {
    req.resume();
    asks.push({ url: req.url ?? '', method: req.method ?? '', headers: req.headers });
    const s = session(req.headers.cookie);
    const answer = (): void => {
      if (s === 'alice') {
        res.writeHead(200, { 'Remote-User': 'alice', 'Remote-Groups': 'admins,dev', 'Remote-Secret': 'not-copied' });
      } else if (s === 'mallory') res.writeHead(403);
      else if (s === 'redirect') res.writeHead(302, { Location: `${LOGIN}?rd=${encodeURIComponent(String(req.headers['x-original-url'] ?? ''))}` });
      else if (s === 'broken') res.writeHead(500);
      else if (req.headers['x-no-redirect'] !== undefined) res.writeHead(401, { 'WWW-Authenticate': 'Bearer realm="test"' });
      else res.writeHead(401, { Location: `${LOGIN}?rd=${encodeURIComponent(String(req.headers['x-original-url'] ?? ''))}` });
      res.end('auth service body\n');
    };
    if (s === 'slow') setTimeout(answer, 3000);
    else answer();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, ip, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    asks,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
