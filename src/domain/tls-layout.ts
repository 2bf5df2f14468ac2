/**
 * Where the gRPC API's TLS material sits: the name the core's certificate is issued for, and the
 * file names of each piece in a task's secrets directory. One definition for the writer (install,
 * rotate-certs, the service specs that mount the secrets) and the readers (core, agents, extensions).
 */
import { LABELS, OWNER_VALUE } from './labels';

/** The name the core's certificate is issued for; clients check it whatever address they dial. */
export const CORE_TLS_NAME = 'swarmgate-core';

/** File names inside a TLS directory (/run/secrets in tasks, where Docker mounts the secrets). */
export const TLS_FILES = { ca: 'swarmgate-ca.crt', caKey: 'swarmgate-ca.key', serverCert: 'swarmgate-server.crt', serverKey: 'swarmgate-server.key', clientCert: 'swarmgate-client.crt', clientKey: 'swarmgate-client.key', previousCa: 'swarmgate-previous-ca.crt', previousCaKey: 'swarmgate-previous-ca.key' } as const;
/** Every TLS file a task may mount: a set's (below) and a component identity's (clientCert, clientKey). */
export type TlsFileName = keyof typeof TLS_FILES;
/** The files of one install/rotation set: the CA (and its key, mounted only into the core) and the core's server pair. */
export type TlsFile = 'ca' | 'caKey' | 'serverCert' | 'serverKey';
export const TLS_DIR_IN_TASKS = '/run/secrets';
/**
 * The key the core's ACME state is encrypted with (ADR 0013): random bytes in a Docker secret made
 * by `install`, mounted into the core's task only, and not part of a TLS set, so `rotate-certs`
 * leaves it (and so the accounts and certificates) alone.
 */
export const ACME_STATE_KEY = { secretName: 'swarmgate-acme-state-key', file: 'swarmgate-acme-state.key', role: 'acme-key' } as const;

/** The PEM texts of one set (rotation makes a whole new set, CA included). */
export interface TlsMaterial {
  readonly ca: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
}

/** Every file of a set, in a fixed order. */
export const TLS_SET_FILES: readonly TlsFile[] = ['ca', 'caKey', 'serverCert', 'serverKey'];

/** Which set and file a TLS secret holds, as its labels say (the secret's name is not relied upon). */
export interface TlsSecretRole {
  readonly set: string;
  readonly file: TlsFile;
}

/** The labels of one secret of a set: owned by swarmgate, role "tls", the set id and the file it holds. */
export function encodeTlsSecretLabels(r: TlsSecretRole): Record<string, string> {
  return { [LABELS.owner]: OWNER_VALUE, [LABELS.role]: 'tls', [LABELS.tlsSet]: r.set, [LABELS.tlsFile]: r.file };
}

/** The set and file of a secret; undefined for a secret that is not one of swarmgate's TLS files. */
export function decodeTlsSecretLabels(labels: Readonly<Record<string, string>> | undefined): TlsSecretRole | undefined {
  const l = labels ?? {};
  const set = l[LABELS.tlsSet];
  const file = l[LABELS.tlsFile];
  if (l[LABELS.owner] !== OWNER_VALUE || set === undefined || set === '' || file === undefined || !(TLS_SET_FILES as readonly string[]).includes(file)) return undefined;
  return { set, file: file as TlsFile };
}
