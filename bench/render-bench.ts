/**
 * Render benchmark (`make bench`): buildModel and renderNginx at 100, 1k and 10k routes, the size
 * of the rendered config and the time `nginx -t` takes to accept it. See bench/README.md.
 *
 * Flags (all optional): --sizes=100,1000 (only these route counts), --no-nginx (skip nginx -t),
 * --keep-temp (leave configs and certificates in the temp dir for manual experiments).
 * Missed targets are reported, never fatal; a config that nginx -t rejects makes the exit code 1.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildModel } from '../src/plan/build-model';
import type { ProxyModel } from '../src/plan/model';
import { renderNginx, renderNginxWithEndpoints } from '../src/render/nginx/render';
import { generateInputs, type CertMode, type GeneratedInputs } from './lib/inputs';
import { machineInfo } from './lib/machine';
import { generateCertPair, nginxInfo, nginxTest, opensslVersion, populateSecrets, type CertPair, type NginxInfo, type NginxTestResult } from './lib/nginx';
import { evaluateTargets, formatFootnotes, formatTable, formatTargets, nginxWarnings, type BenchReport, type CaseResult, type ConfigCounts } from './lib/report';
import { round3, roundSummary, summarize } from './lib/stats';

interface CaseSpec {
  readonly id: string;
  readonly label: string;
  readonly routes: number;
  readonly certs: CertMode;
  readonly warmup: number;
  readonly iterations: number;
}

const CASES: readonly CaseSpec[] = [
  { id: '100', label: '100', routes: 100, certs: { kind: 'per-route' }, warmup: 5, iterations: 50 },
  { id: '1k', label: '1k', routes: 1_000, certs: { kind: 'per-route' }, warmup: 5, iterations: 50 },
  { id: '10k', label: '10k own certs', routes: 10_000, certs: { kind: 'per-route' }, warmup: 2, iterations: 15 },
  // Model and render hardly depend on how certificates are shared (only secret names differ), so this
  // case runs fewer iterations to keep `make bench` within its time budget; it exists for nginx -t.
  { id: '10k-shared50', label: '10k 50 shared certs', routes: 10_000, certs: { kind: 'shared', count: 50 }, warmup: 1, iterations: 5 },
];
const NGINX_RUNS = 3;
/** Runs after one slower than this are skipped (5× the 1 s target: the verdict cannot change). */
const NGINX_STOP_AFTER_MS = 5_000;

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

function defaultModel(inputs: GeneratedInputs): ProxyModel {
  const result = buildModel(inputs.desired, inputs.snapshot);
  const model = result.clusters.find((c) => c.cluster === 'default');
  if (model === undefined) throw new Error('buildModel returned no default cluster');
  // The generator must produce inputs that are fully admitted, or the numbers measure the wrong thing.
  const notResolved = Object.entries(result.conditions).filter(([, conds]) => !conds.some((c) => c.type === 'ResolvedRefs' && c.status === 'True'));
  if (model.routes.length !== inputs.desired.routes.length || notResolved.length > 0) {
    const [first] = notResolved;
    throw new Error(
      `generated inputs are not fully programmed: ${model.routes.length}/${inputs.desired.routes.length} routes; ` +
        `first problem: ${first === undefined ? 'none' : `${first[0]} ${JSON.stringify(first[1])}`}`,
    );
  }
  return model;
}

function countConfig(config: string): ConfigCounts {
  const count = (re: RegExp): number => config.match(re)?.length ?? 0;
  const certs = [...config.matchAll(/^\s+ssl_certificate "([^"]*)";$/gm)].map((m) => m[1] ?? '');
  return {
    lines: count(/\n/g),
    servers: count(/^\s+server \{$/gm),
    locations: count(/^\s+location /gm),
    upstreams: count(/^\s+upstream /gm),
    upstreamServers: count(/^\s+server \S+ max_fails=/gm),
    splitClients: count(/^\s+split_clients /gm),
    sslCertificates: certs.length,
    distinctCertFiles: new Set(certs).size,
  };
}

interface Env {
  readonly tmp: string;
  readonly nginx: NginxInfo | undefined;
  readonly pair: CertPair | undefined;
}

function runCase(spec: CaseSpec, env: Env): CaseResult {
  const g0 = performance.now();
  const inputs = generateInputs(spec.routes, spec.certs);
  const generateMs = performance.now() - g0;
  log(`${spec.label}: inputs generated and decoded in ${generateMs.toFixed(0)} ms (${inputs.mix.services} services, ${inputs.mix.runningTasks} running tasks)`);
  const secretsDir = join(env.tmp, spec.certs.kind === 'per-route' ? 'secrets-per-route' : `secrets-shared-${spec.certs.count}`);
  const caseDir = join(env.tmp, spec.id);
  mkdirSync(caseDir, { recursive: true });
  const options = {
    secretsDir,
    pidPath: join(caseDir, 'nginx.pid'),
    streamModulePath: env.nginx?.streamModulePath ?? null,
  };

  defaultModel(inputs); // validates the inputs once, outside the timings
  for (let i = 0; i < spec.warmup; i++) renderNginx(defaultModel(inputs), options);

  const model: number[] = [];
  const render: number[] = [];
  const renderCold: number[] = [];
  let config = '';
  for (let i = 0; i < spec.iterations; i++) {
    const t0 = performance.now();
    const result = buildModel(inputs.desired, inputs.snapshot);
    const t1 = performance.now();
    const m = result.clusters.find((c) => c.cluster === 'default');
    if (m === undefined) throw new Error('no default cluster');
    const t2 = performance.now();
    config = renderNginx(m, options);
    const t3 = performance.now();
    model.push(t1 - t0);
    render.push(t3 - t2);
    // Cold: the same model without any memo (what the first render of a core, or of a new option, costs).
    const t4 = performance.now();
    const cold = renderNginxWithEndpoints(m, options, 'whole').config;
    renderCold.push(performance.now() - t4);
    if (cold !== config) throw new Error(`${spec.label}: the memoised render differs from the cold render`);
  }
  const total = model.map((x, i) => x + (render[i] ?? 0));
  log(`${spec.label}: ${spec.iterations} iterations, render p50 ${summarize(render).p50.toFixed(1)} ms (memo warm, same inputs), cold p50 ${summarize(renderCold).p50.toFixed(1)} ms`);

  const confPath = join(caseDir, 'nginx.conf');
  writeFileSync(confPath, config);
  let nginxT: CaseResult['nginxT'];
  let nginxTWithoutComments: CaseResult['nginxTWithoutComments'];
  if (env.nginx !== undefined && env.pair !== undefined) {
    const written = populateSecrets(secretsDir, env.pair, inputs.certSecrets, inputs.keySecrets);
    if (written > 0) log(`${spec.label}: wrote ${written} secret files to ${secretsDir}`);
    nginxT = roundNginx(nginxTest(confPath, caseDir, NGINX_RUNS, NGINX_STOP_AFTER_MS));
    log(`${spec.label}: nginx -t ${nginxT.ok ? 'ok' : 'REJECTED'}, median ${nginxT.medianMs.toFixed(0)} ms (${nginxT.runsMs.length} run(s))`);
    if (!nginxT.ok) {
      log(`${spec.label}: nginx -t output:\n${nginxT.stderr}`);
      // Still time the parse: comments carry no configuration, so a copy without them is the
      // same config for nginx. The case stays REJECTED and the exit code stays 1.
      const stripped = config.replace(/^[ \t]*#.*\n/gm, '');
      if (stripped !== config) {
        const strippedPath = join(caseDir, 'nginx.no-comments.conf');
        writeFileSync(strippedPath, stripped);
        nginxTWithoutComments = roundNginx(nginxTest(strippedPath, caseDir, NGINX_RUNS, NGINX_STOP_AFTER_MS));
        log(`${spec.label}: nginx -t without comment lines: ${nginxTWithoutComments.ok ? 'ok' : 'also rejected'}, median ${nginxTWithoutComments.medianMs.toFixed(0)} ms`);
      }
    }
  }

  return {
    id: spec.id,
    label: spec.label,
    routes: spec.routes,
    certMode: spec.certs,
    mix: inputs.mix,
    generateMs: round3(generateMs),
    warmup: spec.warmup,
    model: roundSummary(summarize(model)),
    render: roundSummary(summarize(render)),
    renderCold: roundSummary(summarize(renderCold)),
    total: roundSummary(summarize(total)),
    samplesMs: { model: model.map(round3), render: render.map(round3) },
    configBytes: Buffer.byteLength(config),
    counts: countConfig(config),
    ...(nginxT !== undefined ? { nginxT } : {}),
    ...(nginxTWithoutComments !== undefined ? { nginxTWithoutComments } : {}),
  };
}

function roundNginx(r: NginxTestResult): NginxTestResult {
  return {
    ...r,
    runsMs: r.runsMs.map(round3),
    medianMs: round3(r.medianMs),
    ...(r.cpuRunsMs !== undefined ? { cpuRunsMs: r.cpuRunsMs.map(round3) } : {}),
    ...(r.cpuMedianMs !== undefined ? { cpuMedianMs: round3(r.cpuMedianMs) } : {}),
  };
}

function main(): number {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string' },
      'no-nginx': { type: 'boolean', default: false },
      'keep-temp': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const sizes = values.sizes?.split(',').map((s) => Number(s.trim()));
  const cases = CASES.filter((c) => sizes === undefined || sizes.includes(c.routes));
  if (cases.length === 0) throw new Error(`--sizes: no case with ${values.sizes ?? ''} routes; known: ${[...new Set(CASES.map((c) => c.routes))].join(', ')}`);

  const started = new Date();
  const nginx = values['no-nginx'] ? undefined : nginxInfo();
  if (!values['no-nginx'] && nginx === undefined) log('nginx not found on PATH: nginx -t is skipped');
  const openssl = opensslVersion();
  const machine = machineInfo(nginx?.version, openssl);
  const tmp = mkdtempSync(join(tmpdir(), 'swarmgate-bench-'));
  log(`node ${machine.node}, ${machine.cpuModel} × ${machine.cores}, load ${machine.loadAverage.join(' ')}; temp dir ${tmp}`);

  try {
    const pair = nginx !== undefined ? generateCertPair(join(tmp, 'pki')) : undefined;
    const env: Env = { tmp, nginx, pair };
    const results: CaseResult[] = [];
    for (const spec of cases) results.push(runCase(spec, env));

    const targets = evaluateTargets(results);
    const finished = new Date();
    const report: BenchReport = {
      schema: 1,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationS: Math.round((finished.getTime() - started.getTime()) / 100) / 10,
      machine,
      loadAverageEnd: loadavg().map((x) => Math.round(x * 100) / 100),
      notes: [
        'model = buildModel(desired, snapshot); render = renderNginx(defaultClusterModel, options), its memo warm from the previous iteration of the same inputs (ADR 0043); renderCold = the same model without any memo; total = model + render, per iteration.',
        'p50/p99 are nearest-rank over the measured iterations after warm-up; with 15 samples p99 is the maximum.',
        'Render targets are judged on p50; p99 is reported alongside.',
        `nginx -t: median of ${NGINX_RUNS} runs of "nginx -t -q" on the rendered config, wall time including process start; ` +
          `runs after one slower than ${NGINX_STOP_AFTER_MS} ms are skipped. CPU = user+sys of the nginx process.`,
        'If nginx -t rejects a config, nginxTWithoutComments times the same config with its comment lines removed; the case still counts as rejected.',
        'Wall times are sensitive to other load on the machine: see machine.loadAverage and loadAverageEnd.',
        'Certificates: one EC P-256 key/cert copied under every secret name (per-route: one .crt and one .key file per TLS route).',
      ],
      targets,
      nginxWarnings: nginxWarnings(results),
      cases: results,
    };

    process.stdout.write(`\nswarmgate render benchmark — node ${machine.node}, ${machine.cpuModel}, ${machine.cores} cores, nginx ${machine.nginx ?? 'n/a'}\n\n`);
    const footnotes = formatFootnotes(results);
    process.stdout.write(`${formatTable(results, targets)}\n${footnotes.length > 0 ? `${footnotes}\n` : ''}\nTargets:\n${formatTargets(targets)}\n\n`);

    const dir = join(__dirname, 'results');
    mkdirSync(dir, { recursive: true });
    const stamp = started.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
    const json = `${JSON.stringify(report, null, 2)}\n`;
    writeFileSync(join(dir, `render-${stamp}.json`), json);
    writeFileSync(join(dir, 'latest.json'), json);
    process.stdout.write(`Results: bench/results/render-${stamp}.json (also bench/results/latest.json)\n`);

    const rejected = results.filter((r) => r.nginxT !== undefined && !r.nginxT.ok);
    if (rejected.length > 0) {
      process.stderr.write(`nginx -t rejected the config of: ${rejected.map((r) => r.label).join(', ')}\n`);
      return 1;
    }
    return 0;
  } finally {
    if (values['keep-temp']) log(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}

process.exitCode = main();
