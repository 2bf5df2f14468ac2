/** GET /metrics in the Prometheus text format, and /healthz, on the core's metrics port. */
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { CoreMetrics } from '../status/metrics';

export function startMetricsServer(metrics: CoreMetrics, listen: { host: string; port: number }, log: Logger): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      metrics.registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(body);
        })
        .catch((e: unknown) => {
          res.writeHead(500).end(e instanceof Error ? e.message : 'error');
        });
      return;
    }
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    res.writeHead(404).end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      log.info({ metrics: `${listen.host}:${listen.port}` }, 'metrics listening');
      resolve(server);
    });
  });
}
