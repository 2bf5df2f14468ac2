/**
 * The ProxyModel on the wire (UpstreamModel.model_json). The core is the only writer and the
 * extension the only reader; both run the same release, and the version lets an extension refuse a
 * model it does not understand instead of rendering it wrongly.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../plan/hash';
import type { ProxyModel } from '../plan/model';

/** Bump when ProxyModel changes shape. */
// 2: rules carry Middleware policies (ModelRule.policies); an older extension would render them without.
// 3: listeners and streamUpstreams (TCPRoute/UDPRoute); an older extension would render without them.
export const MODEL_VERSION = 3;

export function encodeModel(model: ProxyModel): { json: string; hash: string } {
  const json = canonicalJson(model);
  return { json, hash: createHash('sha256').update(json).digest('hex') };
}

export function decodeModel(json: string, version: number): ProxyModel {
  if (version !== MODEL_VERSION) throw new Error(`model version ${version} is not supported by this extension (it renders version ${MODEL_VERSION}); run the same swarmgate release as the core`);
  const parsed: unknown = JSON.parse(json);
  if (parsed === null || typeof parsed !== 'object' || !('cluster' in parsed) || !('routes' in parsed)) throw new Error('model_json is not a ProxyModel');
  // The core built this value from checked inputs and typed it as ProxyModel before encoding.
  return parsed as ProxyModel;
}
