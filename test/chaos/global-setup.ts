/**
 * Runs once before the drills: fails at once, with the command to fix it, when the four-node swarm
 * of `make swarm-up NODES=4` is not there or a node is not Ready (an earlier drill run that died
 * half-way may have left one stopped: swarm-nodes-ctl.sh start NODE).
 */
import { execFileSync } from 'node:child_process';
import { CONTROL, NODE_NAMES, socketOf } from './chaos-swarm';

export default function setup(): void {
  let listing = '';
  try {
    listing = execFileSync('docker', ['-H', `unix://${socketOf(CONTROL)}`, 'node', 'ls', '--format', '{{.Hostname}} {{.Status}} {{.ManagerStatus}}'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 });
  } catch (e) {
    throw new Error(`the four-node swarm is not up (${socketOf(CONTROL)} does not answer: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}); run make swarm-up NODES=4 first`);
  }
  for (const name of NODE_NAMES)
    if (!new RegExp(`^${name} Ready`, 'm').test(listing)) throw new Error(`the four-node swarm is not complete (node ls:\n${listing}); start a stopped node with deploy/scripts/swarm-nodes-ctl.sh start NODE, or make swarm-down NODES=4 && make swarm-up NODES=4`);
}
