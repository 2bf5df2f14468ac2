/** The test helper that hands out ports for proxies started later: outside the kernel's ephemeral range, distinct, free. */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePorts } from '../helpers/free-ports';

const [ephemeralLow = 32_768] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);

describe('freePorts', () => {
  it('hands out distinct ports below the ephemeral range, each of which a server can then bind', async () => {
    const ports = [...(await freePorts(60)), ...(await freePorts(60))];
    expect(new Set(ports).size).toBe(120);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(12_000);
      expect(p).toBeLessThan(ephemeralLow);
    }
    const servers = await Promise.all(
      ports.slice(0, 20).map(
        (p) =>
          new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
            const s = createServer();
            s.once('error', reject);
            s.listen(p, '127.0.0.1', () => resolve(s));
          }),
      ),
    );
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  });

  it('skips a port another process holds', async () => {
    // Hold the next ports of this worker's slice with a server, then ask again: none of them comes back.
    const [probe = 0] = await freePorts(1);
    const held = await Promise.all(
      [1, 2, 3].map(
        (d) =>
          new Promise<{ port: number; close: () => Promise<void> }>((resolve) => {
            const s = createServer();
            s.once('error', () => resolve({ port: -1, close: async () => undefined }));
            s.listen(probe + d, '0.0.0.0', () => resolve({ port: probe + d, close: () => new Promise((r) => s.close(() => r())) }));
          }),
      ),
    );
    const got = await freePorts(3);
    for (const h of held) if (h.port > 0) expect(got).not.toContain(h.port);
    expect(got).toHaveLength(3);
    await Promise.all(held.map((h) => h.close()));
  });
});
