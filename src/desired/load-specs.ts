/** Files → desired state for the offline commands (validate, render) and, later, apply. */
import type { IssuerObject, MiddlewareObject, RouteObject, ServiceClusterObject, StreamRouteObject } from '../domain/object';
import type { DesiredState, Stored } from '../plan/inputs';
import { decodeDocuments, type DecodedDocument } from './decode-documents';
import { readInputs } from './read-inputs';
import { problemCount, sortByPosition, type LocatedIssue } from './source-position';
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
  const middlewares: Stored<MiddlewareObject>[] = [];
  const streamRoutes: Stored<StreamRouteObject>[] = [];
  const issuers: Stored<IssuerObject>[] = [];
  for (const { object } of decoded.objects) {
    if (object.kind === 'Route') routes.push({ object, generation: 1 });
    else if (object.kind === 'ServiceCluster') clusters.push({ object, generation: 1 });
    else if (object.kind === 'Middleware') middlewares.push({ object, generation: 1 });
    else if (object.kind === 'Issuer') issuers.push({ object, generation: 1 });
    else streamRoutes.push({ object, generation: 1 });
  }
  return {
    desired: {
      routes,
      clusters,
      rejected: decoded.rejected,
      ...(middlewares.length > 0 ? { middlewares } : {}),
      ...(streamRoutes.length > 0 ? { streamRoutes } : {}),
      ...(issuers.length > 0 ? { issuers } : {}),
    },
    objects: decoded.objects,
    issues: capTotal([...loaded.issues, ...decoded.issues]),
  };
}

/** Problems listed for one set of inputs (up to MAX_ISSUES_PER_DOCUMENT of each of up to MAX_DOCUMENTS_PER_FILE documents per file). */
export const MAX_ISSUES_LISTED = 1000;

/** The first MAX_ISSUES_LISTED problems in reading order, then one line counting the rest. */
function capTotal(issues: LocatedIssue[]): LocatedIssue[] {
  if (issues.length <= MAX_ISSUES_LISTED) return issues;
  const sorted = sortByPosition(issues);
  const shown = sorted.slice(0, MAX_ISSUES_LISTED);
  const last = shown[shown.length - 1] as LocatedIssue;
  const omitted = problemCount(sorted.slice(MAX_ISSUES_LISTED));
  return [...shown, { at: last.at, message: `and ${omitted} more problems (not listed)`, omitted }];
}
