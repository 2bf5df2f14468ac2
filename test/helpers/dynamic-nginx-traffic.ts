/**
 * What the traffic tests of NGINX's Lua balancer share (dynamic endpoints, ADR 0016; splits as data,
 * ADR 0049): a PUT of an endpoint set, requests that report which echo task answered, the worker PIDs
 * that show whether NGINX reloaded, and a request loop under a change.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { EchoReply } from './echo-backends';
import { send } from './http-client';
import { freePorts, loopbackRenderOptions } from './nginx-process';
import type { NginxRenderOptions } from '../../src/render/nginx/options';

/**
 * A test NGINX with dynamic endpoints in `dir`: free loopback ports for its listeners, its control
 * port and the backends, and the render options that use them (the endpoints file in `dir`).
 */
export async function dynamicNginxSetup(dir: string): Promise<{ http: number; control: number; backendPort: number; opts: Partial<NginxRenderOptions> }> {
  const ports = await freePorts(8);
  const [http = 0, , , , , , control = 0, backendPort = 0] = ports;
  const dynamicEndpoints = { controlPort: control, endpointsPath: join(dir, 'endpoints.txt'), modulesDir: '/usr/lib/nginx/modules' };
  return { http, control, backendPort, opts: { ...loopbackRenderOptions(dir, ports.slice(0, 6)), dynamicEndpoints } };
}

/** PUT `body` as the whole endpoint set to NGINX's loopback control port: the answer's status. */
export function putEndpointSet(control: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: control, method: 'PUT', path: '/endpoints', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** `n` requests for `host`, one after another: every status, and the echo task of each 200. */
export async function servedBy(port: number, host: string, n: number, headers: Record<string, string> = {}): Promise<{ statuses: number[]; tasks: string[] }> {
  const statuses: number[] = [];
  const tasks: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await send({ port, host, headers });
    statuses.push(r.status);
    if (r.status === 200) tasks.push((JSON.parse(r.body) as EchoReply).task);
  }
  return { statuses, tasks };
}

/** The worker PIDs of the NGINX whose pid file is `dir`/nginx.pid, sorted: the same list means no reload. */
export function nginxWorkerPids(dir: string): number[] {
  const master = Number(readFileSync(join(dir, 'nginx.pid'), 'utf8').trim());
  return readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/).map(Number).sort();
}

/** Requests for `host` in a loop until stop(); every status seen. */
export function statusesUntilStopped(port: number, host: string): { stop: () => Promise<number[]> } {
  const statuses: number[] = [];
  let on = true;
  const loop = (async () => {
    while (on) statuses.push((await send({ port, host })).status);
  })();
  return { stop: async () => ((on = false), await loop, statuses) };
}
