import fastJson from 'fast-json-stringify';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { FastifySerializerCompiler } from 'fastify/types/schema.js';

/**
 * Responses are written by fast-json-stringify from the JSON Schema of each route's zod response
 * schema: only the declared fields leave the server, as with zod's own serializer, at a fraction
 * of its cost per response (bench/). Schemas it cannot take (recursive ones) keep zod's serializer.
 */
export const serializerCompiler: FastifySerializerCompiler<z.ZodType> = (route) => {
  const { schema } = route;
  if (schema instanceof z.ZodType) {
    try {
      const json = z.toJSONSchema(schema, { target: 'draft-7', io: 'output', unrepresentable: 'any', cycles: 'throw', reused: 'inline' });
      return fastJson(json as Parameters<typeof fastJson>[0]);
    } catch {
      // fall through to zod
    }
  }
  return zodSerializerCompiler(route);
};
