/** Characters that separate the parts of a nickname format such as 城市-行业-姓名. */
const SEPARATORS = '-_|/·・—–\\s';
const SPLIT = new RegExp(`([${SEPARATORS}]+)`, 'u');
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface NicknameRule {
  matches(nickname: string): boolean;
  /** A human explanation such as: 3 parts "城市-行业-姓名", separated by "-". */
  explain: string;
}

/**
 * Turns a format like `城市-行业-姓名` into a rule: the same number of non-empty parts, separated by
 * the same separators. An empty format accepts any nickname.
 */
export function nicknameRule(format: string): NicknameRule {
  const f = format.trim();
  if (!f) return { matches: (n) => n.trim().length > 0, explain: 'any non-empty nickname' };
  const tokens = f.split(SPLIT);
  const parts = tokens.filter((_, i) => i % 2 === 0);
  const seps = [...new Set(tokens.filter((_, i) => i % 2 === 1))];
  const re = new RegExp(`^${tokens.map((t, i) => (i % 2 ? escape(t) : `[^${SEPARATORS}]+`)).join('')}$`, 'u');
  return {
    matches: (n) => re.test(n.trim()),
    explain: `${parts.length} parts "${f}"${seps.length ? `, separated by ${seps.map((s) => `"${s}"`).join(' and ')}` : ''}`,
  };
}
