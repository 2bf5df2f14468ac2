/** `describe route` shows a route's client-certificate policy and whether its secrets exist (tls.clientCertificate). */
import { describe, expect, it } from 'vitest';
import { runDescribe } from '../../src/cli/commands/get';
import { applyObject } from '../../src/desired/spec-store';
import { FakeDocker } from '../fakes/fake-docker';
import { route } from '../helpers/specs';

describe('describe route with client certificates', () => {
  it('names the mode, the CA and CRL secrets, and a secret that does not exist', async () => {
    const docker = FakeDocker.singleNode();
    const tls = (clientCertificate: Record<string, unknown>) => ({ mode: 'Terminate', certificate: { certSecret: 'c', keySecret: 'k' }, clientCertificate });
    await applyObject(docker, route('admin', { hosts: ['admin.test'], tls: tls({ caSecret: 'ca.pem', crlSecret: 'clients.crl' }), rules: [{ backends: [{ service: 'a', port: 80 }] }] }));
    await applyObject(docker, route('portal', { hosts: ['portal.test'], tls: tls({ mode: 'Request', caSecret: 'ca.pem' }), rules: [{ backends: [{ service: 'a', port: 80 }] }] }));
    const text = async (name: string): Promise<string> => {
      const out: string[] = [];
      expect(await runDescribe(docker, 'route', name, { out: (t) => out.push(t), err: () => undefined })).toBe(0);
      return out.join('\n');
    };
    expect(await text('admin')).toContain('Client certs: Require, CA ca.pem (secret not found), CRL clients.crl (secret not found)');
    expect(await text('portal')).toContain('Client certs: Request, CA ca.pem (secret not found)');
    expect(await text('portal')).not.toContain('CRL');
  });
});
