import { expect, it } from 'vitest';
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
