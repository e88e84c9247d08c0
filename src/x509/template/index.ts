/**
 * Declarative JSON certificate templates (public API). A template is a JSON document shaped like
 * the certificate request it renders to; string values may hold `{{ … }}` placeholders that read
 * request data. See README "Certificate templates" for the syntax.
 *
 * ```ts
 * const template = parseTemplate(text, { name: 'web.json' });
 * const request = renderTemplate(template, { subject, sans, publicKey, data: { team: 'web' } });
 * const spec = templateToSpec(request, { publicKey, now: clock.now(), lifetimeMs: 24 * 3600e3 });
 * ```
 */
export {
  CertificateTemplate,
  MAX_RENDERED_BYTES,
  MAX_TEMPLATE_BYTES,
  checkTemplate,
  formatTemplateProblem,
  parseTemplate,
  renderTemplate,
  renderTemplateDocument,
  templateError,
  templateFromDocument,
  type ParseTemplateOptions,
  type RenderOptions,
} from './template.js';
export { TEMPLATE_VARIABLES, type TemplateProblem } from './schema.js';
export { templateFunctions } from './expression.js';
export { describePublicKey, subjectToTemplate, templateVariables, type SanInput, type SubjectInput, type TemplateData } from './variables.js';
export { requestSubjectToName, templateToSpec, type TemplateToSpecOptions } from './to-spec.js';
export { defaultTemplateText, getDefaultTemplate } from './defaults.js';
export { parseJson, toJsonValue, type JsonObject, type JsonValue, type ParseJsonOptions, type ParsedJson, type SourcePosition } from './json.js';
export {
  KEY_TYPES,
  type CertificateRequest,
  type RequestAttribute,
  type RequestBasicConstraints,
  type RequestExtension,
  type RequestNameConstraints,
  type RequestSan,
  type RequestSanType,
  type RequestSubject,
  type RequestValidity,
  type TemplateKeyType,
} from './request.js';
export { parseTemplateData, parseSetFlag, mergeTemplateData } from './data.js';
