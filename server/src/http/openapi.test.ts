import { isDeepStrictEqual } from 'node:util';
import { expect, it } from 'vitest';
import type { z } from 'zod';
import { Client, describeEachDialect, useServer } from '../test/harness.js';

describeEachDialect('OpenAPI document and service pages', (dialect) => {
  const ctx = useServer(dialect);

  it('documents every API route with its schemas', async () => {
    const c = new Client(ctx.server.url);
    const doc = (await c.get('/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries<Record<string, unknown>>(doc.paths)) {
      for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
    }
    const api = ctx.server.app.routeTable.filter((r) => r.url.startsWith('/api/') || r.url.startsWith('/j/'));
    expect(api.length).toBeGreaterThan(30);
    const missing = api.map((r) => `${r.method} ${r.url}`).filter((k) => !documented.has(k));
    expect(missing).toEqual([]);
    // Request bodies come from the zod schemas, including their constraints.
    const signup = doc.paths['/api/v1/auth/signup'].post.requestBody.content['application/json'].schema;
    expect(signup.required).toEqual(expect.arrayContaining(['email', 'password', 'name']));
    expect(signup.additionalProperties).toBe(false);
  });

  it('has an example for every JSON request body and success response, and every example parses with its zod schema', async () => {
    const doc = (await new Client(ctx.server.url).get('/openapi.json')).body;
    type Media = { schema?: { $ref?: string; examples?: unknown[] }; example?: unknown; examples?: Record<string, { value: unknown }> };
    // @fastify/swagger lifts the examples of an inline schema onto the media type (`example`, or
    // named `examples` when there are several); a named schema keeps them in components.
    const examplesOf = (media: Media | undefined): unknown[] | undefined => {
      if (!media) return undefined;
      if (media.example !== undefined) return [media.example];
      if (media.examples) return Object.values(media.examples).map((e) => e.value);
      const ref = media.schema?.$ref;
      return (ref ? doc.components.schemas[ref.replace('#/components/schemas/', '')] : media.schema)?.examples;
    };
    const missing: string[] = [];
    const invalid: string[] = [];
    const withoutResponseSchema: string[] = [];
    let checked = 0;
    const check = (where: string, zod: z.ZodType, media: Media | undefined, io: 'input' | 'output') => {
      const examples = examplesOf(media);
      if (!examples?.length) return void missing.push(where);
      for (const [i, example] of examples.entries()) {
        checked++;
        const parsed = zod.safeParse(example);
        if (!parsed.success) invalid.push(`${where} #${i}: ${parsed.error.issues.map((e) => `${e.path.join('.')} ${e.message}`).join('; ')}`);
        // Response objects strip unknown keys: an example with a field the contract lost would still parse.
        else if (io === 'output' && !isDeepStrictEqual(parsed.data, example)) invalid.push(`${where} #${i}: has fields the schema does not know`);
      }
    };
    const api = ctx.server.app.routeTable.filter((r) => r.url.startsWith('/api/') || r.url.startsWith('/j/'));
    for (const route of api) {
      const op = doc.paths[route.url.replace(/:(\w+)/g, '{$1}')][route.method.toLowerCase()];
      const key = `${route.method} ${route.url}`;
      const schema = (route.schema ?? {}) as { body?: z.ZodType | { content: Record<string, { schema: z.ZodType }> }; response?: Record<string, z.ZodType> };
      const bodies: [string, z.ZodType][] =
        schema.body && 'content' in schema.body
          ? Object.entries(schema.body.content).map(([type, c]) => [type, c.schema])
          : schema.body
            ? [['application/json', schema.body]]
            : [];
      for (const [type, zod] of bodies) check(`${key} request ${type}`, zod, op.requestBody?.content?.[type], 'input');
      const responses = Object.entries(schema.response ?? {}).filter(([code]) => code.startsWith('2'));
      if (!responses.length) withoutResponseSchema.push(key);
      for (const [code, zod] of responses) check(`${key} ${code}`, zod, op.responses[code]?.content?.['application/json'], 'output');
    }
    expect(missing).toEqual([]);
    expect(invalid).toEqual([]);
    expect(checked).toBeGreaterThan(100);
    // Only routes whose answer is not JSON of ours: a page, an image, or what a payment provider expects back.
    expect(withoutResponseSchema.sort()).toEqual(
      [
        'GET /api/v1/communities/:communityId/links/:linkId/qr.svg',
        'GET /j/:code',
        'GET /j/:code/qr.svg',
        'POST /api/v1/webhooks/alipay',
        'POST /api/v1/webhooks/stripe',
        'POST /api/v1/webhooks/wechatpay',
      ].sort(),
    );
  });

  it('serves the health check, the docs UI and a root page that links to them', async () => {
    const c = new Client(ctx.server.url);
    const health = await c.get('/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ ok: true, database: dialect });
    const docs = await fetch(`${ctx.server.url}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
    const root = await c.get('/');
    expect(root.status).toBe(200);
    expect(root.body).toContain('href="/docs"');
  });
});
