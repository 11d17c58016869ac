import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { AppError, type FieldError } from '../lib/errors.js';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

const CONTEXT_PREFIX: Record<string, string> = { body: '', querystring: 'query.', params: 'params.', headers: 'headers.' };

/**
 * Every error leaves as RFC 9457 problem+json with a stable `code`; validation errors name each
 * field (`rules.nickname_format`, `query.limit`), including unknown ones.
 */
export function installProblemHandler(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    let status = 500;
    let code = 'internal_error';
    let detail = 'Something went wrong on our side';
    let errors: FieldError[] | undefined;
    let extra: Record<string, unknown> | undefined;

    if (err instanceof AppError) {
      ({ status, code } = err);
      detail = err.message;
      errors = err.errors;
      extra = err.extra;
    } else if (hasZodFastifySchemaValidationErrors(err)) {
      status = 400;
      code = 'validation_failed';
      const prefix = CONTEXT_PREFIX[err.validationContext ?? 'body'] ?? '';
      errors = err.validation.flatMap((v) => {
        const path = v.instancePath.split('/').filter(Boolean);
        const keys = (v.params as { keys?: string[] }).keys;
        if (v.keyword === 'unrecognized_keys' && keys?.length) {
          return keys.map((k) => ({ field: prefix + [...path, k].join('.'), message: 'unknown field' }));
        }
        return [{ field: prefix + path.join('.') || prefix.replace(/\.$/, '') || 'body', message: v.message ?? 'invalid' }];
      });
      detail = `Invalid input: ${errors.map((e) => `${e.field} (${e.message})`).join(', ')}`;
    } else if (isResponseSerializationError(err)) {
      req.log.error({ err, issues: err.cause.issues }, 'response did not match its schema');
    } else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      status = 415;
      code = 'unsupported_media_type';
      detail = 'Send JSON with Content-Type: application/json';
    } else if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      status = 400;
      code = 'invalid_json';
      detail = 'The request body is not valid JSON';
    } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      status = 413;
      code = 'validation_failed';
      detail = 'The request body is too large';
    } else if (err.statusCode === 429) {
      status = 429;
      code = 'rate_limited';
      detail = 'Too many requests; slow down';
    } else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      code = 'validation_failed';
      detail = err.message;
    }
    if (status >= 500) req.log.error({ err }, 'unhandled error');

    return reply
      .code(status)
      .type('application/problem+json')
      .send({
        type: `https://yutang.dev/problems/${code}`,
        title: TITLES[status] ?? 'Error',
        status,
        detail,
        code,
        ...(errors && { errors }),
        ...extra,
      });
  });

  app.setNotFoundHandler((req, reply) =>
    reply.code(404).type('application/problem+json').send({
      type: 'https://yutang.dev/problems/route_not_found',
      title: 'Not Found',
      status: 404,
      detail: `No route ${req.method} ${req.url.split('?')[0]}`,
      code: 'route_not_found',
    }),
  );
}
