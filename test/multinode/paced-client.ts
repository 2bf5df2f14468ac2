/**
 * A client for the rate-limit test, run inside the client namespace (`ip netns exec sg-cli node
 * --import tsx paced-client.ts HOST TARGET RATE SECONDS`): sends GETs to one proxy address at RATE
 * requests per second (evenly spaced, each on its own connection) for SECONDS, then prints a JSON
 * summary on stdout: how many were admitted (200), limited (429) and anything else. Not a test file:
 * it runs in another network namespace than vitest.
 */
import { request } from 'node:http';

export interface PacedSummary {
  sent: number;
  ok: number;
  limited: number;
  other: Record<string, number>;
  elapsedMs: number;
}

function get(target: string, host: string): Promise<string> {
  const [ip, port] = target.split(':');
  return new Promise((resolve) => {
    const req = request({ host: ip, port: Number(port), path: '/', headers: { host }, agent: false, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.statusCode ?? 0)));
      res.on('error', (e) => resolve(e.message));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(e.message));
    req.end();
  });
}

async function main(): Promise<void> {
  const [host = '', target = '', rate = '30', seconds = '3'] = process.argv.slice(2);
  const count = Math.round(Number(rate) * Number(seconds));
  const gap = 1_000 / Number(rate);
  const t0 = Date.now();
  const answers: Promise<string>[] = [];
  for (let i = 0; i < count; i++) {
    // Paced against the start, so a late timer does not slow the offered rate down.
    const wait = t0 + i * gap - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    answers.push(get(target, host));
  }
  const results = await Promise.all(answers);
  const summary: PacedSummary = { sent: count, ok: 0, limited: 0, other: {}, elapsedMs: Date.now() - t0 };
  for (const r of results) {
    if (r === '200') summary.ok++;
    else if (r === '429') summary.limited++;
    else summary.other[r] = (summary.other[r] ?? 0) + 1;
  }
  process.stdout.write(JSON.stringify(summary));
}

void main();
