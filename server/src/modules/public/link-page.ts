import type { Threshold } from '../../../../contracts/src/index.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface PageInfo {
  code: string;
  url: string;
  community: { name: string; value_proposition: string; announcement: string; is_demo: boolean };
  threshold: Threshold;
}

/**
 * The page behind an entry link: who the community is, the QR code to share, and a join form with
 * the questionnaire when the threshold has one. Server-rendered so it works in any in-app browser.
 */
export function renderLinkPage(info: PageInfo, qr: string): string {
  const questions = info.threshold.criteria.flatMap((c) => (c.type === 'questionnaire' ? c.questions : []));
  const fields = questions
    .map((q) =>
      q.kind === 'choice' && q.options?.length
        ? `<label>${esc(q.text)}<select name="q_${esc(q.id)}">${q.options.map((o) => `<option>${esc(o)}</option>`).join('')}</select></label>`
        : `<label>${esc(q.text)}<textarea name="q_${esc(q.id)}" rows="2"></textarea></label>`,
    )
    .join('');
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(info.community.name)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:30rem;margin:2rem auto;padding:0 1rem;color:#222}
label{display:block;margin:.6rem 0}input,textarea,select{display:block;width:100%;padding:.4rem;margin-top:.2rem;box-sizing:border-box}
button{padding:.5rem 1.2rem;margin-top:.6rem}.qr svg{width:12rem;height:12rem}.demo{background:#fff3cd;padding:.3rem .6rem}</style></head>
<body>
${info.community.is_demo ? '<p class="demo">演示数据 · Demo community</p>' : ''}
<h1>${esc(info.community.name)}</h1>
<p>${esc(info.community.value_proposition)}</p>
${info.community.announcement ? `<blockquote>${esc(info.community.announcement)}</blockquote>` : ''}
<div class="qr" aria-label="QR code">${qr}</div>
<form id="join"><label>称呼 Name<input name="name" required maxlength="120"></label>${fields}<button>加入 Join</button></form>
<pre id="out"></pre>
<script>
document.getElementById('join').addEventListener('submit', async (e) => {
  e.preventDefault();
  const data = new FormData(e.target); const answers = {};
  for (const [k, v] of data) if (k.startsWith('q_')) answers[k.slice(2)] = String(v);
  const res = await fetch('/api/v1/public/links/${esc(info.code)}/join', {method: 'POST', headers: {'content-type': 'application/json'},
    body: JSON.stringify({name: data.get('name'), answers})});
  const body = await res.json();
  document.getElementById('out').textContent = res.ok ? (body.next + (body.member_token ? '\\nmember token: ' + body.member_token : '')) : (body.detail || body.title);
});
</script>
</body></html>`;
}
