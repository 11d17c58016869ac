import { z } from 'zod';
import { LIMITS } from '../limits.js';

export const Id = z.string().min(1).max(64);
export const Timestamp = z.string().describe('ISO-8601 instant in UTC');
export const Name = z.string().trim().min(1).max(LIMITS.name);
export const ShortText = z.string().trim().max(LIMITS.shortText);
export const LongText = z.string().max(LIMITS.longText);
export const Slug = z
  .string()
  .min(2)
  .max(LIMITS.slug)
  .regex(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/, 'lowercase letters, digits and dashes');

export const IdParams = <K extends string>(...keys: K[]) =>
  z.object(Object.fromEntries(keys.map((k) => [k, Id])) as Record<K, typeof Id>);

export const Page = z.strictObject({
  limit: z.coerce.number().int().min(1).max(LIMITS.pageSize).default(50),
  cursor: z.string().max(200).optional(),
});

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number(),
    detail: z.string().optional(),
    code: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details; clients branch on `code`.' });

export const Ok = z.object({ ok: z.literal(true) }).meta({ examples: [{ ok: true }] });

declare module 'zod' {
  interface GlobalMeta {
    /** Shown in /openapi.json; the OpenAPI test parses each with its schema, so none can drift from the contract. */
    examples?: z.core.$input[];
  }
}

/**
 * The first example of a schema, to build the example of a schema that holds it (a list, a page)
 * from the same data. Throws at load time when the schema has none, so a wrapper cannot lose it.
 */
export function exampleOf<T extends z.ZodType>(schema: T): z.input<T> {
  const example = schema.meta()?.examples?.[0];
  if (example === undefined) throw new Error(`exampleOf: the schema ${schema.meta()?.id ?? ''} has no example`);
  return example;
}

/** `{ <key>: [item, …] }`, the answer of a list route, with an example made of the item's. */
export function listOf<K extends string, T extends z.ZodType>(key: K, item: T) {
  const list = z.object({ [key]: z.array(item) } as { [P in K]: z.ZodArray<T> });
  return list.meta({ examples: [{ [key]: [exampleOf(item)] } as z.input<typeof list>] });
}
