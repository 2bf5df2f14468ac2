import { DnsLabel, LabelKey, LabelValue } from './brands';
import { mapOf, struct, type Codec } from './codec';
import type * as t from 'io-ts';

export const API_VERSION = 'swarmgate.io/v1';
export const KINDS = ['Route', 'ServiceCluster', 'Middleware', 'TCPRoute', 'UDPRoute', 'Issuer'] as const;
export type Kind = (typeof KINDS)[number];

export const ObjectMeta = struct('metadata', { name: DnsLabel }, { labels: mapOf(LabelKey, LabelValue), annotations: mapOf(LabelKey, LabelValue) });
export type ObjectMeta = t.TypeOf<typeof ObjectMeta>;

/** `Kind/name`, the key objects are known by in conditions, errors and status. */
export function objectKey(kind: Kind, name: string): string {
  return `${kind}/${name}`;
}

export type { Codec };
