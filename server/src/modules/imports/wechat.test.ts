import { describe, expect, it } from 'vitest';
import { bytesSource, checkItem, collect, fixture, fixtureBytes, mutate, seeded, summarize } from '../../test/chat-parsers.js';
import { fileSource } from './parse-support.js';
import type { ImportJoin, ImportLeave, ImportMessage, ImportService, ParseOptions } from './records.js';
import { parseWeChat, parseWeChatSystem, sniffEncoding } from './wechat.js';

const parseFile = (name: string, options: ParseOptions = { timeZone: 'Asia/Shanghai' }) => collect(parseWeChat(fileSource(fixture(`wechat/${name}`)), options));
const parseText = (text: string, options: ParseOptions = { timeZone: 'Asia/Shanghai' }) => collect(parseWeChat(bytesSource(Buffer.from(text)), options));
const messages = (records: { kind: string }[]) => records.filter((r): r is ImportMessage => r.kind === 'message');
const joins = (records: { kind: string }[]) => records.filter((r): r is ImportJoin => r.kind === 'join');
const leaves = (records: { kind: string }[]) => records.filter((r): r is ImportLeave => r.kind === 'leave');

describe('WeChat CSV parser on real-shaped exports', () => {
  it('PyWxDump columns, local times, quoted names in group notices', async () => {
    const { records, problems } = await parseFile('pywxdump-group.csv');
    expect(problems).toEqual([]);
    // Hand count over the 15 data rows. messages (文本/图片/表情包/引用消息/链接 by a talker): rows 2,3,4,6,7,11,12,14 = 8;
    // authors wxid_zhangsan01 lisi_02 wangwu03 zhaoliu04 me_runner tomlee99 = 6;
    // joins: 李四 王五 (邀请), 赵六 (qr via 张三), Tom Lee (qr) = 4; leaves: 王五 (你将…移出), 李四 (被移出) = 2;
    // service: 撤回消息, 修改群名 = 2. Shanghai is UTC+8.
    expect(summarize(records)).toEqual({
      messages: 8,
      authors: 6,
      joins: 4,
      leaves: 2,
      services: 2,
      first_at: '2024-03-01T00:01:10Z',
      last_at: '2024-03-04T01:02:00Z',
    });
    expect(records.every((r) => r.chat === '深圳跑团')).toBe(true);
    expect(joins(records).map((j) => [j.member.external_id, j.via, j.by?.external_id ?? null])).toEqual([
      ['name:李四', 'added', 'name:张三'],
      ['name:王五', 'added', 'name:张三'],
      ['name:赵六', 'qr', 'name:张三'],
      ['name:Tom Lee', 'qr', null],
    ]);
    expect(leaves(records).map((l) => [l.member.external_id, l.by?.external_id ?? null])).toEqual([
      ['name:王五', null],
      ['name:李四', null],
    ]);
    const msgs = messages(records);
    expect(msgs[1]).toMatchObject({ key: '7364520935812340003', text: '收到！\n我带水', author: { external_id: 'wxid_lisi_02' }, location: 'row 4' });
    expect(msgs[2]).toMatchObject({ attachment: 'photo', text: '' });
    expect(msgs.find((m) => m.attachment === 'link')).toMatchObject({ text: '深圳湾跑步路线推荐' });
    expect(records.filter((r): r is ImportService => r.kind === 'service').map((s) => [s.action, s.actor?.external_id])).toEqual([
      ['recall', 'wxid_lisi_02'],
      ['subject', 'name:张三'],
    ]);
    // Two joins from one row get distinct keys.
    expect(new Set(records.map((r) => r.key)).size).toBe(records.length);
  });

  it('WeChatMsg columns with a BOM, unix seconds, numeric types, NickName over Remark', async () => {
    const { records, problems } = await parseFile('wechatmsg-bom.csv', { timeZone: 'Asia/Shanghai', chat: '产品经理交流群' });
    expect(problems).toEqual([]);
    // messages: types 1,1,3,49/6,49/57,34,1 = 7 (rows 3,4,5,7,8,9,12); authors chenchen88, alice_w, boblee = 3;
    // joins 陈晨 (by Alice Wang), Bob Li = 2; leaves Bob Li (by Alice Wang) = 1; service: 10002 recall = 1.
    expect(summarize(records)).toEqual({
      messages: 7,
      authors: 3,
      joins: 2,
      leaves: 1,
      services: 1,
      first_at: '2024-05-20T01:01:00Z',
      last_at: '2024-05-21T10:05:00Z',
    });
    expect(records.every((r) => r.chat === '产品经理交流群')).toBe(true);
    const msgs = messages(records);
    expect(msgs[0]!.author).toEqual({ platform: 'wechat', external_id: 'wxid_chenchen88', display_name: '陈晨' });
    expect(msgs.map((m) => m.attachment ?? null)).toEqual([null, null, 'photo', 'file', null, 'voice', null]);
    expect(msgs.at(-1)!.text).toBe('下次分享会见,谢谢 Alice');
    expect(leaves(records)[0]).toMatchObject({ member: { external_id: 'name:Bob Li' }, by: { external_id: 'name:Alice Wang' } });
    // No MsgSvrID column: content keys, stable across runs.
    const again = await parseFile('wechatmsg-bom.csv', { timeZone: 'Asia/Shanghai' });
    expect(again.records.map((r) => r.key)).toEqual(records.map((r) => r.key));
  });

  it('GB18030 bytes are detected and decoded; a talker column holding the room id names the chat', async () => {
    const bytes = fixtureBytes('wechat/gb18030-group.csv');
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toThrow();
    expect(sniffEncoding(bytes)).toBe('gb18030');
    const { records, problems } = await parseFile('gb18030-group.csv');
    expect(problems).toEqual([]);
    // 3 messages (刘洋 1, 周杰 2 incl. a video), 1 join (刘洋 invited by 周杰), 1 leave (你将刘洋移出).
    expect(summarize(records)).toEqual({ messages: 3, authors: 2, joins: 1, leaves: 1, services: 0, first_at: '2024-06-01T12:01:00Z', last_at: '2024-06-01T12:03:00Z' });
    expect(messages(records)[0]).toMatchObject({ text: '大家好，我是刘洋，请多关照', author: { external_id: 'wxid_liuyang', display_name: '刘洋' } });
    expect(joins(records)[0]).toMatchObject({ member: { external_id: 'name:刘洋' }, by: { external_id: 'name:周杰' }, via: 'added' });
    expect(records.every((r) => r.chat === '34567890123@chatroom')).toBe(true);
  });

  it('reads the same in 1-byte chunks (multi-byte characters split across chunks)', async () => {
    for (const name of ['gb18030-group.csv', 'wechatmsg-bom.csv']) {
      const bytes = fixtureBytes(`wechat/${name}`);
      const whole = await collect(parseWeChat(bytesSource(bytes), { timeZone: 'Asia/Shanghai' }));
      const tiny = await collect(parseWeChat(bytesSource(bytes, 1), { timeZone: 'Asia/Shanghai' }));
      expect(tiny.all).toEqual(whole.all);
    }
  });
});

describe('WeChat group notices', () => {
  it.each([
    ['"张三"邀请"李四"、"王五"加入了群聊', { joins: [{ member: '李四', by: '张三', via: 'added' }, { member: '王五', by: '张三', via: 'added' }] }],
    ['你邀请“李四”加入了群聊', { joins: [{ member: '李四', by: undefined, via: 'added' }] }],
    ['"张三"邀请你加入了群聊', { service: { action: 'joined' } }],
    ['"赵六"通过扫描"张三"分享的二维码加入群聊', { joins: [{ member: '赵六', by: '张三', via: 'qr' }] }],
    ['赵六通过扫描二维码加入群聊', { joins: [{ member: '赵六', via: 'qr' }] }],
    ['"小红"加入了群聊', { joins: [{ member: '小红', via: 'unknown' }] }],
    ['"张三"将"李四"移出了群聊', { leaves: [{ member: '李四', by: '张三' }] }],
    ['你将"李四"移出了群聊', { leaves: [{ member: '李四', by: undefined }] }],
    ['"李四"被移出群聊', { leaves: [{ member: '李四' }] }],
    ['李四移出了群聊', { leaves: [{ member: '李四' }] }],
    ['"张三"修改群名为“深圳湾跑团”', { service: { action: 'subject', actor: '张三' } }],
    ['"李四" 撤回了一条消息', { service: { action: 'recall', actor: '李四' } }],
    ['你撤回了一条消息', { service: { action: 'recall', actor: undefined } }],
    ['以下为新消息', { service: { action: 'system' } }],
  ])('%s', (text, expected) => {
    expect(parseWeChatSystem(text)).toEqual(expected);
  });
});

describe('WeChat CSV edges', () => {
  it('bad rows are problems naming the row; the others are kept', async () => {
    const csv = [
      'MsgSvrID,type_name,talker,msg,CreateTime',
      '1,文本,wxid_a,ok,2024-01-01 10:00:00',
      '2,文本,wxid_a,bad time,yesterday',
      '3,文本,,no sender,2024-01-01 10:01:00',
      '4,文本,wxid_b,"still fine, with a comma",1704075000',
    ].join('\n');
    const { records, problems } = await parseText(csv);
    expect(problems.map((p) => p.location)).toEqual(['row 3', 'row 4']);
    expect(messages(records).map((m) => [m.key, m.at])).toEqual([
      ['1', '2024-01-01T02:00:00Z'],
      ['4', '2024-01-01T02:10:00Z'],
    ]);
  });

  it('a header without time or content columns is one problem at row 1', async () => {
    const { all } = await parseText('a,b,c\n1,2,3\n');
    expect(all).toEqual([{ kind: 'problem', location: 'row 1', reason: expect.stringMatching(/no createtime or msg column/) }]);
  });

  it('identical rows without MsgSvrID get distinct keys', async () => {
    const csv = 'type_name,talker,msg,CreateTime\n文本,wxid_a,+1,2024-01-01 10:00:00\n文本,wxid_a,+1,2024-01-01 10:00:00\n';
    const { records } = await parseText(csv);
    expect(records).toHaveLength(2);
    expect(records[0]!.key).not.toBe(records[1]!.key);
  });
});

describe('WeChat fuzz', () => {
  it('never throws on thousands of mutated CSVs; every problem names a row', async () => {
    const files = ['pywxdump-group.csv', 'wechatmsg-bom.csv', 'gb18030-group.csv'].map((f) => fixtureBytes(`wechat/${f}`));
    const alphabet = ['"', '""', ',', '\n', '\r\n', '邀请', '加入了群聊', '移出了群聊', '、', '“', '1700000000', '2024-13-45 99:99:99', '\ufeff', '\u00ff\u00fe', '\u0000'];
    const rnd = seeded(20240301);
    let problems = 0;
    for (let i = 0; i < 2000; i++) {
      const bytes = mutate(rnd.pick(files), rnd, alphabet);
      const { all } = await collect(parseWeChat(bytesSource(bytes, 1 + rnd.int(500)), { timeZone: 'Asia/Shanghai' }));
      for (const item of all) {
        const bad = checkItem(item, /^row \d+$/);
        if (bad) throw new Error(`case ${i}: ${bad}: ${JSON.stringify(item)}`);
        if (item.kind === 'problem') problems += 1;
      }
    }
    expect(problems).toBeGreaterThan(100);
  });
});
