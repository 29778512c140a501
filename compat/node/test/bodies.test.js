'use strict';
// Message sizes and encodings with ali-ons: a body just under the broker's 4 MiB
// limit, a 1-byte body, and non-ASCII tags, keys and user properties.
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const { Message } = require('ali-ons');
const { Cluster } = require('../lib/servers');
const { Clients, collect } = require('../lib/clients');

const TIMEOUT = 60000;
const MAX_MESSAGE_SIZE = 4 * 1024 * 1024; // broker maxMessageSize default
let cluster;
let clients;

test.before(async () => {
  cluster = await new Cluster().start();
  clients = new Clients(cluster);
});
test.after(async () => {
  if (cluster) await cluster.stop();
  setTimeout(() => process.exit(), 200);
});

const sha = buf => crypto.createHash('sha256').update(buf).digest('hex');

test('a body 4 KiB under 4 MiB and a 1-byte body are stored and delivered byte for byte', { timeout: TIMEOUT }, async () => {
  const topic = 'NodeBodySizeTopic';
  // Random bytes, sent uncompressed, so the broker really receives and stores ~4 MiB.
  const producer = clients.producer('PG_node_size', { compressMsgBodyOverHowmuch: Infinity });
  await clients.createTopic(producer, topic, 1);
  const big = crypto.randomBytes(MAX_MESSAGE_SIZE - 4096);
  const tiny = Buffer.from('z');
  for (const body of [big, tiny]) {
    const r = await producer.send(new Message(topic, 'T', body));
    assert.strictEqual(r.sendStatus, 'SEND_OK', `send of a ${body.length}-byte body`);
  }
  const consumer = clients.consumer('CG_node_size');
  const got = await collect(consumer, topic, '*', 2, 40000);
  const bySize = got.map(m => ({ len: m.body.length, sha: sha(m.body) })).sort((a, b) => b.len - a.len);
  assert.deepStrictEqual(bySize, [{ len: big.length, sha: sha(big) }, { len: 1, sha: sha(tiny) }]);
  await consumer.close();
  await producer.close();
});

test('a compressible 1 MiB body travels zlib-compressed and arrives decompressed', { timeout: TIMEOUT }, async () => {
  const topic = 'NodeCompressedTopic';
  const producer = clients.producer('PG_node_zip'); // ali-ons compresses bodies >= 4 KiB
  await clients.createTopic(producer, topic, 1);
  const body = Buffer.from('0123456789abcdef'.repeat(64 * 1024));
  assert.strictEqual((await producer.send(new Message(topic, 'T', body))).sendStatus, 'SEND_OK');
  const consumer = clients.consumer('CG_node_zip');
  const [m] = await collect(consumer, topic, '*', 1, 40000);
  assert.deepStrictEqual({ len: m.body.length, sha: sha(m.body) }, { len: body.length, sha: sha(body) });
  await consumer.close();
  await producer.close();
});

test('non-ASCII tag, keys and user properties survive the round trip and the tag filter matches', { timeout: TIMEOUT }, async () => {
  const topic = 'NodeUnicodeTopic';
  const producer = clients.producer('PG_node_utf8');
  await clients.createTopic(producer, topic, 2);
  // The tag filter compares String.hashCode over UTF-16 units: include a surrogate pair.
  const tag = 'タグ-😀';
  const other = 'другой';
  const props = { 'ключ': 'значение', '名前': '値 ✓', emoji: '🚀🌍' };
  const want = [];
  for (let i = 0; i < 6; i++) {
    const t = i % 2 ? other : tag;
    const msg = new Message(topic, t, `тело-${i}-${t}`);
    msg.keys = [`键-${i}`, `κλειδί-${i}`];
    Object.assign(msg.properties, props);
    assert.strictEqual((await producer.send(msg)).sendStatus, 'SEND_OK');
    if (t === tag) want.push({ body: `тело-${i}-${tag}`, tags: tag, keys: `键-${i} κλειδί-${i}`, ...props });
  }
  const consumer = clients.consumer('CG_node_utf8');
  const got = await collect(consumer, topic, tag, want.length, 40000);
  const seen = got.map(m => ({
    body: m.body.toString(), tags: m.tags, keys: m.keys,
    ...Object.fromEntries(Object.keys(props).map(k => [k, m.properties[k]])),
  })).sort((a, b) => a.body.localeCompare(b.body));
  assert.deepStrictEqual(seen, want);
  await consumer.close();
  await producer.close();
});
