/**
 * Client address ranges (Middleware ipAllow / ipDeny): an IPv4 or IPv6 address, or a CIDR block
 * whose host bits are zero. NGINX's geo and HAProxy's src ACL read both forms; a block with host
 * bits set ("10.1.2.3/8") is refused because it almost always means a typo, and NGINX only warns.
 */
import type * as t from 'io-ts';
import { brandedString } from './codec';
import { ipv4Problem, ipv6Problem } from './snapshot';

export type Cidr = string & t.Brand<{ readonly Cidr: 'Cidr' }>;

function ipv4Bits(s: string): bigint {
  return s.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}

/** The 128 bits of an IPv6 address already checked by ipv6Problem. */
function ipv6Bits(s: string): bigint {
  const groups = (run: string): bigint[] => {
    if (run === '') return [];
    return run.split(':').flatMap((p) => {
      if (!p.includes('.')) return [BigInt(parseInt(p, 16))];
      const v4 = ipv4Bits(p);
      return [v4 >> 16n, v4 & 0xffffn];
    });
  };
  const [head = '', tail] = s.split('::');
  const h = groups(head);
  const tl = tail === undefined ? [] : groups(tail);
  const all = [...h, ...Array<bigint>(8 - h.length - tl.length).fill(0n), ...tl];
  return all.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** The canonical block for `s` when its host bits are set, for the error message. */
function networkOf(ip: string, bits: number, v6: boolean): string {
  const width = v6 ? 128 : 32;
  const value = v6 ? ipv6Bits(ip) : ipv4Bits(ip);
  const mask = ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - bits)) - 1n);
  const net = value & mask;
  if (!v6) return `${[24n, 16n, 8n, 0n].map((sh) => String((net >> sh) & 0xffn)).join('.')}/${bits}`;
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((sh) => ((net >> sh) & 0xffffn).toString(16));
  return `${groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::')}/${bits}`;
}

export function cidrProblem(s: string): string | undefined {
  const [ip = '', prefix, extra] = s.split('/');
  if (extra !== undefined) return 'more than one "/"';
  const v6 = ip.includes(':');
  const ipIssue = v6 ? ipv6Problem(ip) : ipv4Problem(ip);
  if (ipIssue !== undefined) return ipIssue;
  if (prefix === undefined) return undefined;
  const max = v6 ? 128 : 32;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) return `prefix length must be 0..${max}`;
  const canonical = networkOf(ip, Number(prefix), v6);
  const value = v6 ? ipv6Bits(ip) : ipv4Bits(ip);
  const net = v6 ? ipv6Bits(canonical.split('/')[0] ?? '') : ipv4Bits(canonical.split('/')[0] ?? '');
  return value === net ? undefined : `host bits are set; the block is ${canonical}`;
}

export const Cidr = brandedString<t.Brand<{ readonly Cidr: 'Cidr' }>>('IPv4 or IPv6 address or CIDR block like 10.0.0.0/8 or fd00::/8', cidrProblem);

/**
 * The one text form of an address or block that both proxies read: IPv4 dotted quad, IPv6 as eight
 * lowercase hex groups (no "::", no dotted IPv4 tail: NGINX refuses "::ffff:255.255.255.255"), and no
 * prefix for a single address (NGINX refuses "255.255.255.255/32"). For a value the Cidr codec accepted.
 */
export function canonicalCidr(c: Cidr): string {
  const [ip = '', prefix] = c.split('/');
  const v6 = ip.includes(':');
  const full = prefix === undefined || Number(prefix) === (v6 ? 128 : 32);
  if (!v6) return full ? ip : `${ip}/${prefix}`;
  const bits = ipv6Bits(ip);
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((sh) => ((bits >> sh) & 0xffffn).toString(16));
  return full ? groups.join(':') : `${groups.join(':')}/${prefix}`;
}
