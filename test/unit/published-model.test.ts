/**
 * A published model's JSON is encoded when a watcher reads it, not kept by the control plane
 * (ADR 0044): the core holds its models anyway, their JSON was a second copy (13 MB at 10,000 routes).
 */
import { firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ControlPlane } from '../../src/api/control-plane';

const HASH = 'a'.repeat(64);

describe('published model', () => {
  it('encodes the JSON on each read and keeps no string of it', async () => {
    const plane = new ControlPlane();
    let encoded = 0;
    const big = JSON.stringify({ routes: Array.from({ length: 500 }, (_, i) => `r${i}.example.test`) });
    plane.publishModel('edge', HASH, () => {
      encoded++;
      return big;
    });
    expect(encoded).toBe(0);
    const m = plane.model('edge');
    // Nothing the plane holds for it is the JSON (or any long string).
    expect(Object.values(m ?? {}).filter((v) => typeof v === 'string' && v.length > 100)).toEqual([]);
    expect((await firstValueFrom(plane.watchModel('edge'))).modelJson).toBe(big);
    expect(m?.modelJson).toBe(big);
    expect(encoded).toBe(2);
  });

  it('takes the newer source for a republished hash, without a new publication', () => {
    const plane = new ControlPlane();
    plane.publishModel('edge', HASH, () => 'from the first model object');
    const first = plane.model('edge');
    plane.publishModel('edge', HASH, () => 'from the second model object');
    expect(plane.model('edge')?.sequence).toBe(first?.sequence);
    // The first model object is no longer referenced: reading encodes the second.
    expect(plane.model('edge')?.modelJson).toBe('from the second model object');
  });

  it('still takes a JSON string as given', () => {
    const plane = new ControlPlane();
    plane.publishModel('edge', HASH, '{"cluster":"edge"}');
    expect(plane.model('edge')?.modelJson).toBe('{"cluster":"edge"}');
  });
});
