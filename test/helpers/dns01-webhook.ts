/**
 * A DNS-01 webhook as a user would run one (the contract of docs/adr/0013-acme-issuers.md and
 * src/domain/issuer.ts): POST `{"action":"present"|"cleanup","fqdn","value"}`, answer 2xx once the
 * TXT record is (or no longer is) served. This one serves them through pebble-challtestsrv's
 * management API, the DNS server pebble validates against. It records every call, and can hold
 * the next `present` unanswered (to catch the core in the middle of an order).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pebble } from './pebble';

export interface Dns01Call {
  readonly action: string;
  readonly fqdn: string;
}

export interface Dns01Webhook {
  readonly url: string;
  readonly calls: Dns01Call[];
  /** The next `present` for this fqdn is never answered (the caller is restarted meanwhile). */
  holdNextPresent(fqdn: string): void;
  close(): Promise<void>;
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.on('data', (d: Buffer) => (s += d.toString()));
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}

export async function startDns01Webhook(pebble: Pebble, listen: string): Promise<Dns01Webhook> {
  const calls: Dns01Call[] = [];
  const held = new Set<string>();
  const parked: ServerResponse[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const call = JSON.parse(await body(req)) as { action?: unknown; fqdn?: unknown; value?: unknown };
        if (typeof call.action !== 'string' || typeof call.fqdn !== 'string' || typeof call.value !== 'string') throw new Error('bad request');
        calls.push({ action: call.action, fqdn: call.fqdn });
        if (call.action === 'present' && held.delete(call.fqdn)) {
          parked.push(res);
          return;
        }
        await pebble.txt(call.fqdn, call.action === 'present' ? call.value : undefined);
        res.writeHead(204).end();
      } catch (e) {
        res.writeHead(400).end(e instanceof Error ? e.message : String(e));
      }
    })();
  });
  await new Promise<void>((r) => server.listen(0, listen, () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${listen}:${port}/dns01`,
    calls,
    holdNextPresent: (fqdn) => held.add(fqdn),
    close: async () => {
      for (const r of parked) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
