/**
 * Dynamic endpoints (ADR 0016): the agent's side. The core delivers `endpoints.txt` next to
 * nginx.conf; when only it changed, the agent PUTs it to NGINX's loopback control endpoint (the Lua
 * balancer's shared dictionary) instead of checking and reloading. Before a reload it pushes the
 * set too, so upstreams the new config names are known the moment its workers start.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Validation } from '../validate/result';
import { ENDPOINTS_FILE } from '../render/render-cluster';
import { DEFAULT_DYNAMIC_ENDPOINTS } from '../render/nginx/options';

/** PUT the endpoint lines to NGINX's loopback control port; rejects unless NGINX answers 204. */
export function putEndpoints(body: string | Uint8Array, port = DEFAULT_DYNAMIC_ENDPOINTS.controlPort, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'PUT', path: '/endpoints', agent: false, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => (res.statusCode === 204 ? resolve() : reject(new Error(`NGINX refused the endpoints (${res.statusCode ?? 0}): ${text.trim().slice(0, 300)}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`NGINX endpoints PUT timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The new set to NGINX's balancer (no check, no reload) and, with `confDir`, to the endpoints file
 * a restarted NGINX seeds from (absent: the caller moves a staged file into place itself).
 */
export async function pushEndpointSet(confDir: string | undefined, content: Uint8Array, port?: number): Promise<Validation> {
  try {
    await putEndpoints(content, port);
  } catch (err) {
    return { ok: false, output: err instanceof Error ? err.message : String(err) };
  }
  if (confDir !== undefined) {
    const target = join(confDir, ENDPOINTS_FILE);
    writeFileSync(`${target}.next`, content);
    renameSync(`${target}.next`, target);
  }
  return { ok: true, output: '' };
}
