/**
 * DockerPort: the narrow slice of the Docker Engine API swarmgate uses. Everything that talks to
 * Docker goes through it: the dockerode adapter implements it for real, test/fakes implements it in
 * memory (with an action log and fault injection). Types are the Engine API's own JSON shapes,
 * reduced to the fields swarmgate reads or writes, so the adapter stays a thin pass-through.
 */

export type Labels = Record<string, string>;

export interface VersionRef {
  readonly Index: number;
}

export interface PortConfig {
  readonly Protocol?: 'tcp' | 'udp' | 'sctp';
  readonly TargetPort: number;
  readonly PublishedPort?: number;
  readonly PublishMode?: 'ingress' | 'host';
}

export interface ServiceSpec {
  readonly Name: string;
  readonly Labels?: Labels;
  readonly TaskTemplate: {
    readonly ContainerSpec: {
      readonly Image: string;
      readonly Args?: readonly string[];
      readonly Command?: readonly string[];
      readonly Env?: readonly string[];
      readonly Labels?: Labels;
      readonly StopSignal?: string;
      readonly StopGracePeriod?: number;
      readonly Mounts?: readonly {
        readonly Type: 'bind' | 'volume' | 'tmpfs';
        /** Empty for a tmpfs. */
        readonly Source: string;
        readonly Target: string;
        readonly ReadOnly?: boolean;
        /** Mode: the tmpfs root's permission bits; SizeBytes: its limit (absent: Docker's, half the node's memory). */
        readonly TmpfsOptions?: { readonly SizeBytes?: number; readonly Mode?: number };
      }[];
      readonly Configs?: readonly { readonly ConfigID: string; readonly ConfigName: string; readonly File: { readonly Name: string; readonly UID: string; readonly GID: string; readonly Mode: number } }[];
      readonly Secrets?: readonly { readonly SecretID: string; readonly SecretName: string; readonly File: { readonly Name: string; readonly UID: string; readonly GID: string; readonly Mode: number } }[];
    };
    readonly Placement?: {
      readonly Constraints?: readonly string[];
      readonly Preferences?: readonly { readonly Spread: { readonly SpreadDescriptor: string } }[];
      readonly MaxReplicas?: number;
    };
    readonly Resources?: {
      readonly Limits?: { readonly NanoCPUs?: number; readonly MemoryBytes?: number };
      readonly Reservations?: { readonly NanoCPUs?: number; readonly MemoryBytes?: number };
    };
    readonly Networks?: readonly { readonly Target: string; readonly Aliases?: readonly string[] }[];
    /** Delay and Window in nanoseconds; MaxAttempts 0: unlimited. */
    readonly RestartPolicy?: { readonly Condition?: 'none' | 'on-failure' | 'any'; readonly Delay?: number; readonly MaxAttempts?: number; readonly Window?: number };
    readonly ForceUpdate?: number;
  };
  readonly Mode?: { readonly Replicated?: { readonly Replicas: number }; readonly Global?: Record<string, never>; readonly GlobalJob?: Record<string, never> };
  readonly UpdateConfig?: {
    readonly Parallelism?: number;
    readonly Delay?: number;
    readonly FailureAction?: 'continue' | 'pause' | 'rollback';
    readonly Monitor?: number;
    readonly Order?: 'stop-first' | 'start-first';
  };
  readonly EndpointSpec?: { readonly Mode?: 'vip' | 'dnsrr'; readonly Ports?: readonly PortConfig[] };
}

export interface ServiceInfo {
  readonly ID: string;
  readonly Version: VersionRef;
  readonly CreatedAt?: string;
  readonly UpdatedAt?: string;
  readonly Spec: ServiceSpec;
  readonly Endpoint?: {
    readonly Ports?: readonly PortConfig[];
    readonly VirtualIPs?: readonly { readonly NetworkID: string; readonly Addr: string }[];
  };
}

export interface TaskInfo {
  readonly ID: string;
  /** Swarm bumps it on every change of the task (state, addresses, ...): the observer reuses a conversion while it stays (ADR 0047). */
  readonly Version?: VersionRef;
  readonly ServiceID: string;
  readonly NodeID?: string;
  readonly Slot?: number;
  readonly DesiredState: string;
  readonly Status: {
    readonly State: string;
    readonly Timestamp?: string;
    /** Swarm's error for the task, e.g. "no suitable node (host-mode port already in use on 1 node)" while pending. */
    readonly Err?: string;
    /** Swarm's state message, e.g. "pending task scheduling", "starting". */
    readonly Message?: string;
    readonly ContainerStatus?: { readonly ContainerID?: string };
    /** The task's host-mode published ports, with the port the node actually bound. */
    readonly PortStatus?: { readonly Ports?: readonly PortConfig[] };
  };
  readonly NetworksAttachments?: readonly { readonly Network: { readonly ID: string; readonly Spec?: { readonly Name?: string } }; readonly Addresses?: readonly string[] }[];
  readonly Spec?: {
    readonly ContainerSpec?: {
      readonly Configs?: readonly { readonly ConfigID: string; readonly ConfigName: string }[];
      /** What the task mounts: a secret stays in use while a task that is meant to run mounts it. */
      readonly Secrets?: readonly { readonly SecretID: string; readonly SecretName: string }[];
    };
  };
}

export interface NetworkInfo {
  readonly Id: string;
  readonly Name: string;
  readonly Driver: string;
  readonly Scope: string;
  readonly Ingress?: boolean;
  readonly Attachable?: boolean;
  readonly Labels?: Labels;
}

export interface NetworkSpec {
  readonly Name: string;
  readonly Driver: 'overlay';
  readonly Attachable?: boolean;
  readonly Labels?: Labels;
}

export interface SecretInfo {
  readonly ID: string;
  readonly Version?: VersionRef;
  readonly Spec: { readonly Name: string; readonly Labels?: Labels };
}

export interface NodeInfo {
  readonly ID: string;
  readonly Version?: VersionRef;
  readonly Spec: { readonly Role: 'manager' | 'worker'; readonly Availability: 'active' | 'pause' | 'drain'; readonly Labels?: Labels };
  readonly Description?: { readonly Hostname?: string; readonly Engine?: { readonly Labels?: Labels } };
  readonly Status: { readonly State: string; readonly Addr?: string };
}

export interface ConfigSpec {
  readonly Name: string;
  readonly Labels?: Labels;
  /** Base64 of the content, as the Engine API carries it. */
  readonly Data?: string;
}

export interface ConfigInfo {
  readonly ID: string;
  readonly Version: VersionRef;
  readonly CreatedAt?: string;
  readonly UpdatedAt?: string;
  readonly Spec: ConfigSpec;
}

export interface DockerEvent {
  readonly Type: string;
  readonly Action: string;
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Labels };
  readonly time?: number;
}

/** A label filter as the Engine API takes it: "key" or "key=value". */
export type LabelFilter = readonly string[];

export interface DockerPort {
  listServices(labels?: LabelFilter): Promise<ServiceInfo[]>;
  /**
   * Every task Swarm keeps (history included), or only one service's: a CLI that asks about one
   * service should not pay for every task of a large Swarm.
   */
  listTasks(filter?: { readonly serviceId?: string }): Promise<TaskInfo[]>;
  listNetworks(): Promise<NetworkInfo[]>;
  listSecrets(): Promise<SecretInfo[]>;
  listNodes(): Promise<NodeInfo[]>;
  /** Configs without their data (the list endpoint omits it); use inspectConfig for content. */
  listConfigs(labels?: LabelFilter): Promise<ConfigInfo[]>;
  inspectConfig(id: string): Promise<ConfigInfo>;
  createConfig(spec: ConfigSpec): Promise<string>;
  /** Swarm configs are immutable except their labels; `version` guards against lost updates. */
  updateConfigLabels(id: string, version: number, spec: ConfigSpec): Promise<void>;
  removeConfig(id: string): Promise<void>;
  createService(spec: ServiceSpec): Promise<string>;
  updateService(id: string, version: number, spec: ServiceSpec): Promise<void>;
  removeService(id: string): Promise<void>;
  createNetwork(spec: NetworkSpec): Promise<string>;
  /** `Data` is base64, as the Engine API takes it; secrets cannot be read back through the API. */
  createSecret(spec: { readonly Name: string; readonly Labels?: Labels; readonly Data: string }): Promise<string>;
  removeSecret(id: string): Promise<void>;
  removeNetwork(id: string): Promise<void>;
  /**
   * The last `lines` log lines (stdout and stderr) of one task, oldest first. Rejects once `timeoutMs`
   * has passed: a task log is read from the node that ran it, which may be gone (the request then hangs).
   */
  taskLogTail(taskId: string, lines: number, timeoutMs: number): Promise<string[]>;
  /** The local image ID of a reference (tag or ID) on this daemon; undefined when it is not present. */
  localImageId(ref: string): Promise<string | undefined>;
  /** The `org.opencontainers.image.version` label of a local image (tag or ID); undefined when absent. */
  localImageVersion(ref: string): Promise<string | undefined>;
  /** Subscribe to the event stream; returns the unsubscribe function. Events are hints, never data. */
  watchEvents(onEvent: (e: DockerEvent) => void, onError: (err: Error) => void): () => void;
}

/** A task that runs and is meant to run: the only kind that serves traffic. */
export function isServingTask(t: TaskInfo): boolean {
  return t.Status.State === 'running' && t.DesiredState === 'running';
}
