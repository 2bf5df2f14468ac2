/** Where the numbers came from: runtime, CPU and tool versions (timings mean little without them). */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem, type as osType } from 'node:os';

export interface MachineInfo {
  readonly node: string;
  readonly v8: string;
  readonly os: string;
  readonly arch: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly totalMemMiB: number;
  /** 1/5/15-minute load when the run started: other work on the machine skews timings. */
  readonly loadAverage: readonly number[];
  readonly nginx: string | null;
  readonly openssl: string | null;
  readonly gitCommit: string | null;
}

export function machineInfo(nginx: string | undefined, openssl: string | undefined): MachineInfo {
  const cpuList = cpus();
  const git = spawnSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' });
  return {
    node: process.version,
    v8: process.versions.v8,
    os: `${osType()} ${release()}`,
    arch: process.arch,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    totalMemMiB: Math.round(totalmem() / 1024 / 1024),
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
    nginx: nginx ?? null,
    openssl: openssl ?? null,
    gitCommit: git.status === 0 ? git.stdout.trim() : null,
  };
}
