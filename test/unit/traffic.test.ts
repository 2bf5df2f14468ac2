/** Traffic counting: syslog line parsing, p99 from buckets, and totals that survive agent restarts. */
import { describe, expect, it } from 'vitest';
import { TrafficTotals } from '../../src/api/traffic-totals';
import { parseDatagram, TrafficCounters } from '../../src/agent/traffic-counters';
import { LATENCY_BUCKET_COUNT, quantileMs } from '../../src/domain/traffic';

/** The counted part of a datagram. */
const parseTrafficLine = (datagram: string) => parseDatagram(datagram).traffic;
const buckets = (entries: Record<number, number>) => Array.from({ length: LATENCY_BUCKET_COUNT }, (_, i) => entries[i] ?? 0);

describe('parseTrafficLine', () => {
  it('reads NGINX syslog lines (seconds) and millisecond lines', () => {
    expect(parseTrafficLine('<190>Nov 26 18:50:41 sg: sgm u_1a2b3c_shop_8080 503 0.012s')).toEqual({ upstream: 'u_1a2b3c_shop_8080', status: 503, ms: 12 });
    expect(parseTrafficLine('sgm be.r-r0.u_x_y_80 200 7 ms')).toEqual({ upstream: 'u_x_y_80', status: 200, ms: 7 });
  });
  it('ignores requests without an upstream and anything else', () => {
    expect(parseTrafficLine('<190>sg: sgm - 301 0.000s')).toBeUndefined();
    expect(parseTrafficLine('sgm u_a"b 200 0.1s')).toBeUndefined();
    expect(parseTrafficLine('hello')).toBeUndefined();
  });
});

describe('parseDatagram (HAProxy)', () => {
  it('counts be.<rule>.<upstream> lines and hands back the access log after "|"', () => {
    expect(parseDatagram('sgm be.shop-r0.u_1a2b3c_shop_8080 502 37 ms|10.0.0.9:5123 [26/Nov] sg_http be.shop-r0.u_1a2b3c_shop_8080/s1 "GET / HTTP/1.1"\n')).toEqual({
      traffic: { upstream: 'u_1a2b3c_shop_8080', status: 502, ms: 37 },
      accessLog: '10.0.0.9:5123 [26/Nov] sg_http be.shop-r0.u_1a2b3c_shop_8080/s1 "GET / HTTP/1.1"',
    });
  });
  it('prints but does not count requests no backend took, aborted ones, and TCP log lines', () => {
    expect(parseDatagram('sgm sg_http 308 0 ms|redirect line')).toEqual({ accessLog: 'redirect line' });
    expect(parseDatagram('sgm be.a-r0.u_x_80 -1 -1 ms|aborted')).toEqual({ accessLog: 'aborted' });
    expect(parseDatagram('10.0.0.9:5123 [26/Nov] sg_tls pt.x/s1 1/0/5 120 --')).toEqual({ accessLog: '10.0.0.9:5123 [26/Nov] sg_tls pt.x/s1 1/0/5 120 --' });
    // Counters only (access log off), and the quiet marker of TCP frontends: nothing printed.
    expect(parseDatagram('sgm be.a-r0.u_x_80 200 3 ms')).toEqual({ traffic: { upstream: 'u_x_80', status: 200, ms: 3 } });
    expect(parseDatagram('sg-quiet')).toEqual({});
  });
});

describe('TrafficCounters', () => {
  it('counts per upstream with one bucket per latency', () => {
    const c = new TrafficCounters();
    c.record({ upstream: 'u_a', status: 200, ms: 3 });
    c.record({ upstream: 'u_a', status: 502, ms: 30 });
    c.record({ upstream: 'u_a', status: 200, ms: 60_000 });
    expect(c.snapshot()).toEqual([{ upstream: 'u_a', requests: 3, responses5xx: 1, latencyBuckets: buckets({ 0: 1, 3: 1, 11: 1 }) }]);
  });
});

describe('quantileMs', () => {
  it('interpolates inside the bucket holding the rank', () => {
    // 100 requests: 98 at ≤ 5 ms, 2 in (100, 250]: p99 is halfway through that bucket.
    expect(quantileMs(buckets({ 0: 98, 5: 2 }), 0.99)).toBeCloseTo(175, 5);
    expect(quantileMs(buckets({}), 0.99)).toBe(0);
    // Only the open last bucket: its lower bound.
    expect(quantileMs(buckets({ 11: 5 }), 0.99)).toBe(10_000);
  });
});

describe('TrafficTotals', () => {
  const reading = (requests: number, errors: number) => [{ upstream: 'u_a', requests, responses5xx: errors, latencyBuckets: buckets({ 1: requests }) }];
  it('adds only the difference between reports; a new replica (a restarted agent is a new task) counts from its first report', () => {
    const t = new TrafficTotals();
    t.observe('edge', 'r1', reading(10, 1));
    t.observe('edge', 'r1', reading(15, 1));
    t.observe('edge', 'r2', reading(4, 4));
    expect(t.of('edge', 'u_a')).toMatchObject({ requests: 19, responses5xx: 5 });
    // The agent restarted: Swarm ran a new task, with a new ID, whose counters start at 0.
    const deltas = t.observe('edge', 'r3', reading(3, 0));
    expect(deltas).toEqual([{ cluster: 'edge', upstream: 'u_a', requests: 3, responses5xx: 0, latencyBuckets: buckets({ 1: 3 }) }]);
    expect(t.of('edge', 'u_a')).toMatchObject({ requests: 22, responses5xx: 5 });
    // A replica that went away keeps what it counted; a deleted cluster is forgotten.
    t.retain(new Set(['edge']), new Set(['r1']));
    expect(t.of('edge', 'u_a').requests).toBe(22);
    t.retain(new Set(), new Set());
    expect(t.of('edge', 'u_a').requests).toBe(0);
  });
  it('counts no reading with more errors or bucketed requests than requests, alone or as a difference', () => {
    const t = new TrafficTotals();
    expect(t.observe('edge', 'r1', [{ upstream: 'u_a', requests: 10, responses5xx: 11, latencyBuckets: buckets({ 1: 10 }) }])).toEqual([]);
    expect(t.observe('edge', 'r1', [{ upstream: 'u_a', requests: 10, responses5xx: 0, latencyBuckets: buckets({ 1: 11 }) }])).toEqual([]);
    expect(t.observe('edge', 'r1', [{ upstream: 'u_a', requests: -5, responses5xx: 0, latencyBuckets: buckets({}) }])).toEqual([]);
    t.observe('edge', 'r1', reading(100, 0));
    // 5 more requests cannot bring 50 more errors (the canary's error rate would jump from 0 to 33 %).
    expect(t.observe('edge', 'r1', [{ upstream: 'u_a', requests: 105, responses5xx: 50, latencyBuckets: buckets({ 1: 105 }) }])).toEqual([]);
    expect(t.of('edge', 'u_a')).toMatchObject({ requests: 100, responses5xx: 0 });
    // The baseline stayed: an honest next reading counts its real difference.
    t.observe('edge', 'r1', reading(110, 2));
    expect(t.of('edge', 'u_a')).toMatchObject({ requests: 110, responses5xx: 2 });
  });
  it('keeps each replica\'s counters monotonic: cycling them down and up counts nothing twice', () => {
    const t = new TrafficTotals();
    t.observe('edge', 'r1', reading(1000, 0));
    expect(t.observe('edge', 'r1', reading(0, 0))).toEqual([]);
    expect(t.observe('edge', 'r1', reading(1000, 0))).toEqual([]);
    expect(t.of('edge', 'u_a').requests).toBe(1000);
    t.observe('edge', 'r1', reading(1001, 0));
    expect(t.of('edge', 'u_a').requests).toBe(1001);
  });
  it('drops latency buckets of another layout instead of misreading them', () => {
    const t = new TrafficTotals();
    t.observe('edge', 'r1', [{ upstream: 'u_a', requests: 5, responses5xx: 0, latencyBuckets: [5] }]);
    expect(t.of('edge', 'u_a')).toMatchObject({ requests: 5, latencyBuckets: buckets({}) });
  });
});
