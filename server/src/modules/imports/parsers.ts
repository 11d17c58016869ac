import type { ChatParser, ImportPlatform } from './records.js';
import { parseTelegram } from './telegram.js';

/** The chat-export parsers by format name, as `yutang import <format>` accepts them: one line each. */
export const PARSERS: Partial<Record<ImportPlatform, ChatParser>> = {
  telegram: parseTelegram,
};
