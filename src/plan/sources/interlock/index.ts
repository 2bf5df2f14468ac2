/**
 * The desired-state source of Interlock's `com.docker.lb.*` service labels (migration path): labelled
 * services become ordinary Routes with their provenance (see translate.ts for the rules).
 */
export {
  BACKEND_LABELS,
  INTERLOCK_LABELS,
  INTERLOCK_SOURCE,
  LB_PREFIX,
  SOURCE_ANNOTATION,
  labelRouteName,
  translateServiceLabels,
  withLabelRoutes,
  type InterlockLabel,
  type LabelTranslation,
  type TranslatedRoute,
} from './translate';
