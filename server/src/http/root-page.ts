/** Until the web console exists, `/` says what is running and where the API docs are. */
export const rootPage = (version: string, dialect: string) => `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Yutang 鱼塘</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}</style></head>
<body><h1>Yutang 鱼塘 <small>${version}</small></h1>
<p>Yutang runs online communities as a business: group matrix, entry links, thresholds, onboarding and the numbers that matter.</p>
<p>This server is running the API on a ${dialect === 'postgres' ? 'PostgreSQL' : 'SQLite'} database. The web console is not built yet.</p>
<ul><li><a href="/docs">Interactive API documentation</a></li><li><a href="/openapi.json">OpenAPI document</a></li><li><a href="/healthz">Health check</a></li></ul>
</body></html>`;
