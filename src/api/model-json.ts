/**
 * The ProxyModel on the wire (UpstreamModel.model_json). The core is the only writer and the
 * extension the only reader; both run the same release, and the version lets an extension refuse a
 * model it does not understand instead of rendering it wrongly.
 */
import { createHash } from 'node:crypto';
import type { ProxyModel } from '../plan/model';

/** Bump when ProxyModel changes shape. */
// 2: rules carry Middleware policies (ModelRule.policies); an older extension would render them without.
// 3: listeners and streamUpstreams (TCPRoute/UDPRoute); an older extension would render without them.
export const MODEL_VERSION = 3;

/**
 * The model's JSON and its SHA-256, once per run per cluster (the core's one call). Plain
 * JSON.stringify, not canonicalJson: at 10,000 routes sorting every object's keys cost as much as the
 * render (issue 22), and it is not needed here. A ProxyModel has no dictionary-like objects: every
 * object is built by the pure builder in a fixed field order (or decoded from a stored spec, whose
 * text does not change within a generation), so equal models serialise equally. The hash only names
 * the model an extension renders; were an equal model ever written in another order, the extension
 * would render it once more, nothing worse.
 */
export function encodeModel(model: ProxyModel): { json: string; hash: string } {
  const json = JSON.stringify(model);
  return { json, hash: createHash('sha256').update(json).digest('hex') };
}

export function decodeModel(json: string, version: number): ProxyModel {
  if (version !== MODEL_VERSION) throw new Error(`model version ${version} is not supported by this extension (it renders version ${MODEL_VERSION}); run the same swarmgate release as the core`);
  const parsed: unknown = JSON.parse(json);
  if (parsed === null || typeof parsed !== 'object' || !('cluster' in parsed) || !('routes' in parsed)) throw new Error('model_json is not a ProxyModel');
  // The core built this value from checked inputs and typed it as ProxyModel before encoding.
  return parsed as ProxyModel;
}
