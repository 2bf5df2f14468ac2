/** Files → desired state for the offline commands (validate, render) and, later, apply. */
import type { RouteObject, ServiceClusterObject } from '../domain/object';
import type { DesiredState, Stored } from '../plan/inputs';
import { decodeDocuments, type DecodedDocument } from './decode-documents';
import { readInputs } from './read-inputs';
import type { LocatedIssue } from './source-position';
import { parseYamlDocuments, type SourceDocument } from './yaml-documents';

export interface LoadedSpecs {
  readonly desired: DesiredState;
  readonly objects: DecodedDocument[];
  readonly issues: LocatedIssue[];
}

export function loadDocuments(paths: readonly string[], stdin?: () => string): { documents: SourceDocument[]; issues: LocatedIssue[] } {
  const { inputs, issues } = readInputs(paths, stdin);
  const documents: SourceDocument[] = [];
  for (const input of inputs) {
    const parsed = parseYamlDocuments(input.text, input.file);
    documents.push(...parsed.documents);
    issues.push(...parsed.issues);
  }
  return { documents, issues };
}

export function loadSpecs(paths: readonly string[], stdin?: () => string): LoadedSpecs {
  const loaded = loadDocuments(paths, stdin);
  const decoded = decodeDocuments(loaded.documents);
  const routes: Stored<RouteObject>[] = [];
  const clusters: Stored<ServiceClusterObject>[] = [];
  for (const { object } of decoded.objects) {
    if (object.kind === 'Route') routes.push({ object, generation: 1 });
    else clusters.push({ object, generation: 1 });
  }
  return {
    desired: { routes, clusters, rejected: decoded.rejected },
    objects: decoded.objects,
    issues: [...loaded.issues, ...decoded.issues],
  };
}
