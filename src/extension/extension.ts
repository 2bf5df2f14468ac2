/**
 * `swarmgate extension`: renders one ServiceCluster's configuration with no Docker API access. It
 * streams the cluster's model from the core (WatchUpstreams), renders it with the same templates
 * the core would use (nginx.conf or haproxy.cfg, by the cluster's proxy.kind), validates it with
 * `nginx -t` / `haproxy -c` on the exact files (src/validate) in its own container, and submits the
 * result (SubmitConfig). The core never delivers a config the extension marked invalid, and checks
 * every submission itself with the same validator whatever the extension reported: the proxies
 * keep the last good one and the cluster shows the validator's message.
 */
import type { Logger } from 'pino';
import { resubscribe, type CoreConnection, type StreamHandle } from '../api/client';
import type { UpstreamModel__Output } from '../api/generated/swarmgate/v1/UpstreamModel';
import { decodeModel } from '../api/model-json';
import { deadline } from '../api/proto';
import { renderCluster, type ProxyKind } from '../render/render-cluster';
import { validateFiles, type ShippedFile, type Validation } from '../validate/validate-files';
import type { ProxyModel } from '../plan/model';

export interface ExtensionOptions {
  readonly core: CoreConnection;
  readonly cluster: string;
  readonly log: Logger;
  /** Injected in tests; validateFiles (`nginx -t` or `haproxy -c` on the exact files submitted) by default. */
  readonly validate?: (model: ProxyModel, files: readonly ShippedFile[]) => Validation;
}

export interface Rendered {
  readonly proxyKind: ProxyKind;
  readonly files: { path: string; content: Buffer }[];
  readonly validation: { ok: boolean; output: string };
}

/** What the extension submits for one model: renderCluster's files and their check (pure apart from the validator). */
export function renderForSubmission(model: ProxyModel, validate: (m: ProxyModel, files: readonly ShippedFile[]) => Validation = defaultValidate): Rendered {
  const rendered = renderCluster(model);
  const files = rendered.files.map((f) => ({ path: f.path, content: Buffer.from(f.content) }));
  // The bytes checked are the bytes submitted (the core checks them again before delivering).
  const v = validate(model, files);
  return { proxyKind: rendered.kind, files, validation: { ok: v.ok, output: v.output } };
}

function defaultValidate(model: ProxyModel, files: readonly ShippedFile[]): Validation {
  return validateFiles(model.spec.proxy.kind, files, { secrets: model.secrets });
}

export class Extension {
  private stream: StreamHandle | undefined;
  submitted = 0;

  constructor(private readonly o: ExtensionOptions) {}

  start(): void {
    this.stream = resubscribe(
      () => this.o.core.client.WatchUpstreams({ cluster: this.o.cluster }),
      (m: UpstreamModel__Output) => this.handle(m),
      { log: this.o.log, what: 'WatchUpstreams', connection: this.o.core, onConnect: () => this.o.log.info('connected to the core') },
    );
  }

  stop(): void {
    this.stream?.stop();
  }

  private async handle(m: UpstreamModel__Output): Promise<void> {
    let rendered: Rendered;
    try {
      rendered = renderForSubmission(decodeModel(m.modelJson, m.modelVersion), this.o.validate);
    } catch (e) {
      // Never delivered (validation failed); the kind only has to be one the core accepts.
      rendered = { proxyKind: 'nginx', files: [], validation: { ok: false, output: e instanceof Error ? e.message : String(e) } };
    }
    const accepted = await new Promise<boolean>((resolve) => {
      // A channel closed by stop() (or renewed meanwhile) throws at once instead of calling back.
      try {
        this.o.core.client.SubmitConfig(
          { cluster: m.cluster, modelHash: m.modelHash, files: rendered.files, validation: rendered.validation, proxyKind: rendered.proxyKind },
          { deadline: deadline() },
          (err, res) => {
            if (err !== null) this.o.log.warn({ err: err.message }, 'SubmitConfig failed; the next model or reconnect resubmits');
            resolve(err === null && res?.accepted === true);
          },
        );
      } catch (e) {
        this.o.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'SubmitConfig not sent; the next model or reconnect resubmits');
        resolve(false);
      }
    });
    this.submitted++;
    this.o.log.info({ model: m.modelHash.slice(0, 12), sequence: m.sequence, valid: rendered.validation.ok, accepted }, 'rendered and submitted');
  }
}
