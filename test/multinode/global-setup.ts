/**
 * Runs once before the multi-node tests: fails the run at once, with the command to fix it, when
 * the two-node swarm of `make swarm-up NODES=2` is not there (instead of every test timing out).
 */
import { execFileSync } from 'node:child_process';
import { MGR_SOCKET, NODE_NAMES } from './nodes';

export default function setup(): void {
  let listing = '';
  try {
    listing = execFileSync('docker', ['-H', `unix://${MGR_SOCKET}`, 'node', 'ls', '--format', '{{.Hostname}} {{.Status}} {{.Availability}}'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 });
  } catch (e) {
    throw new Error(`the two-node swarm is not up (${MGR_SOCKET} does not answer: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}); run make swarm-up NODES=2 first`);
  }
  for (const name of NODE_NAMES)
    if (!new RegExp(`^${name} Ready`, 'm').test(listing)) throw new Error(`the two-node swarm is not complete (node ls:\n${listing}); run make swarm-down NODES=2 && make swarm-up NODES=2`);
}
