/**
 * Where the gRPC API's TLS material sits: the name the core's certificate is issued for, and the
 * file names of each piece in a task's secrets directory. One definition for the writer (install,
 * rotate-certs, the service specs that mount the secrets) and the readers (core, agents, extensions).
 */
/** The name the core's certificate is issued for; clients check it whatever address they dial. */
export const CORE_TLS_NAME = 'swarmgate-core';

/** File names inside a TLS directory (/run/secrets in tasks, where Docker mounts the secrets). */
export const TLS_FILES = { ca: 'swarmgate-ca.crt', serverCert: 'swarmgate-server.crt', serverKey: 'swarmgate-server.key', clientCert: 'swarmgate-client.crt', clientKey: 'swarmgate-client.key' } as const;
export type TlsFile = keyof typeof TLS_FILES;
export const TLS_DIR_IN_TASKS = '/run/secrets';

/** The PEM texts of one set (the CA key is not kept: rotation makes a whole new set). */
export interface TlsMaterial {
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}
