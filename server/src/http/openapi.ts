import { jsonSchemaTransform } from 'fastify-type-provider-zod';

type TransformInput = Parameters<typeof jsonSchemaTransform>[0];
type MediaSchemas = { content: Record<string, { schema: unknown }> };

const perContentType = (body: unknown): body is MediaSchemas =>
  typeof body === 'object' && body !== null && 'content' in body && typeof (body as MediaSchemas).content === 'object';

/**
 * fastify-type-provider-zod's transform, plus request bodies declared per content type
 * (`body: { content: { 'text/csv': { schema } } }`, which Fastify validates per type): the provider
 * takes only a zod schema as the body, so each type's schema is transformed on its own.
 */
export function openApiTransform(input: TransformInput): ReturnType<typeof jsonSchemaTransform> {
  const body = input.schema?.body;
  if (!perContentType(body)) return jsonSchemaTransform(input);
  const { body: _body, ...rest } = input.schema;
  const out = jsonSchemaTransform({ ...input, schema: rest });
  const content = Object.fromEntries(
    Object.entries(body.content).map(([type, media]) => [type, { schema: jsonSchemaTransform({ ...input, schema: { body: media.schema } }).schema.body }]),
  );
  return { ...out, schema: { ...out.schema, body: { content } } };
}
