import type { ChatParser, ImportPlatform } from './records.js';
import { parseDiscord } from './discord.js';
import { parseTelegram } from './telegram.js';
import { parseWeChat } from './wechat.js';
import { whatsappParser } from './whatsapp.js';

/** The chat-export parsers by format name, as `yutang import <format>` accepts them: one line each. */
export const PARSERS: Partial<Record<ImportPlatform, ChatParser>> = {
  telegram: parseTelegram,
  whatsapp: whatsappParser,
  wechat: parseWeChat,
  discord: parseDiscord,
};
