'use strict';
// mqconsole's pages in a real browser: Debian's Chromium, headless, against our
// mqnamesrv + mqbroker that ali-ons producers and consumers have used. Each case
// opens a page as an operator would, checks what it shows and keeps a screenshot
// in compat/console/artifacts/. The cases run in order: each builds on the last.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const httpclient = require('urllib');
const { Producer, Consumer, Message } = require('ali-ons');
const { Cluster } = require('../../node/lib/servers');
const { startConsole, stopChild, mqadmin, launchBrowser, screenshot, tableRows } = require('../lib/console');

const TOPIC = 'ConsoleTopic';
const GROUP = 'console-group';
const PRODUCER_GROUP = 'console-producer';
const TIMEOUT = 60000;
const quiet = { info() {}, warn() {}, error() {}, debug() {} };

let cluster, consoleProc, base, browser, profile, page, producer, consumer;
const sent = [];   // ali-ons send results, in order

function sleep(ms) { return new Promise(r => setTimeout(r, ms)); }

// Polls the console's own API until cond(json) holds.
async function waitApi(path, cond, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    const res = await fetch(base + 'api/' + path);
    last = await res.json();
    if (cond(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)}`);
    await sleep(200);
  }
}

// Opens #/route and waits until the page has drawn (its "Loading…" gone).
async function open(route) {
  await page.goto(base + '#/' + route);
  await page.waitForFunction(() => !document.querySelector('main p.muted') ||
    document.querySelector('main p.muted').textContent !== 'Loading…', null, { timeout: 20000 });
}

async function sendOne(i) {
  const msg = new Message(TOPIC, 'TagA', `hello from compat/console ${i}`);
  msg.keys = [`order-${i}`];
  const r = await producer.send(msg);
  assert.strictEqual(r.sendStatus, 'SEND_OK');
  sent.push(r);
}

const sum = (rows, col) => rows.reduce((a, r) => a + Number(r[col]), 0);

test.before(async () => {
  cluster = await new Cluster().start();
  ({ child: consoleProc, url: base } = await startConsole(cluster.nameSrv, cluster.dir));
  await mqadmin(['updateTopic', '-n', cluster.nameSrv, '-c', 'DefaultCluster', '-t', TOPIC, '-r', '4', '-w', '4']);
  await waitApi(`topic?topic=${TOPIC}`, j => j.queues && j.queues.length === 4, 10000, 'the topic route');
  producer = new Producer({ httpclient, nameSrv: cluster.nameSrv, producerGroup: PRODUCER_GROUP, logger: quiet });
  await producer.ready();
  for (let i = 0; i < 10; i++) await sendOne(i);
  // A push consumer takes all ten (its heartbeat creates the group's retry topic, as Apache's broker does).
  consumer = new Consumer({ httpclient, nameSrv: cluster.nameSrv, consumerGroup: GROUP, logger: quiet,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', persistConsumerOffsetInterval: 500 });
  await new Promise((resolve, reject) => {
    const got = new Set();
    const t = setTimeout(() => reject(new Error(`consumer got ${got.size} of 10`)), 40000);
    consumer.subscribe(TOPIC, '*', async msg => {
      got.add(msg.body.toString());
      if (got.size === 10) { clearTimeout(t); resolve(); }
    });
  });
  ({ browser, profile } = await launchBrowser());
  page = await browser.newPage();
});

test.after(async () => {
  if (browser) await browser.close();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
  await stopChild(consoleProc);
  if (cluster) await cluster.stop();
  // ali-ons keeps a process-wide client with timers alive; leave once the results are out.
  setTimeout(() => process.exit(), 200);
});

test('cluster page: the broker with its address, role, version and status', { timeout: TIMEOUT }, async () => {
  await open('cluster');
  await screenshot(page, '01-cluster');
  assert.match(await page.textContent('main h2'), /Cluster DefaultCluster/);
  const rows = await tableRows(page, '#brokers');
  assert.strictEqual(rows.length, 1);
  const [name, id, role, addr, version, , , putToday, , , status] = rows[0];
  assert.deepStrictEqual([name, id, role, addr, status], ['broker-c', '0', 'MASTER', cluster.brokerAddr, 'OK']);
  assert.strictEqual(version, 'V4_9_8');
  assert.ok(Number(putToday) >= 10, `messages put today: ${putToday}`);
  await page.click('#brokers a');
  await page.waitForSelector('#broker-status');
  const table = Object.fromEntries(await tableRows(page, '#broker-status'));
  assert.strictEqual(table.brokerVersionDesc, 'V4_9_8');
  await screenshot(page, '02-broker');
});

test('connections page: the online consumer with its subscription, the producer of the topic', { timeout: TIMEOUT }, async () => {
  await open(`connections?group=${GROUP}`);
  await page.waitForSelector('table.connections');
  assert.match(await page.textContent('main .result'), /1 consumer connection/);
  assert.match(await page.textContent('main .result'), new RegExp(`${TOPIC}\\s*\\*`));
  await screenshot(page, '03-connections-consumer');
  await page.fill('#f-group', PRODUCER_GROUP);
  await page.fill('#f-topic', TOPIC);
  await page.click('main form button');
  await page.waitForFunction(() => /producer connection/.test(document.querySelector('main .result').textContent));
  const rows = await tableRows(page, 'table.connections');
  assert.strictEqual(rows.length, 1);
  assert.match(rows[0][1], /^127\.0\.0\.1:\d+$/);
  await screenshot(page, '04-connections-producer');
});

test('topic page: the route and each queue\'s min/max offsets after 13 sends', { timeout: TIMEOUT }, async () => {
  // The consumer leaves with its offsets committed; three more messages make the group lag by 3.
  await consumer.close();
  await waitApi(`group?group=${GROUP}`, j => j.queues && j.queues.reduce((a, q) => a + q.consumerOffset, 0) === 10,
    20000, 'the group\'s committed offsets');
  for (let i = 10; i < 13; i++) await sendOne(i);
  await open('topics');
  const names = (await tableRows(page, '#topics')).map(r => r[0]);
  assert.ok(names.includes(TOPIC), `topics: ${names}`);
  assert.ok(!names.includes('TBW102'), 'system topics hidden by default');
  await screenshot(page, '05-topics');
  await page.click(`#topics a:text-is("${TOPIC}")`);
  await page.waitForSelector('#queues');
  const queues = await tableRows(page, '#queues');
  assert.deepStrictEqual(queues.map(r => [r[0], r[1]]), [0, 1, 2, 3].map(q => ['broker-c', String(q)]));
  assert.strictEqual(sum(queues, 3), 13, 'max offsets');
  assert.strictEqual(sum(queues, 2), 0, 'min offsets');
  assert.strictEqual(await page.textContent('#topic-messages'), '13');
  const route = await tableRows(page, '#route');
  assert.deepStrictEqual(route[0], ['broker-c', `0: ${cluster.brokerAddr}`, '4', '4', '6']);
  await screenshot(page, '06-topic');
});

test('consumer groups: the group lags by the 3 messages sent after its consume, per queue', { timeout: TIMEOUT }, async () => {
  await open('groups');
  const groups = await tableRows(page, '#groups');
  const row = groups.find(r => r[0] === GROUP);
  assert.ok(row, `groups: ${JSON.stringify(groups)}`);
  assert.deepStrictEqual([row[1], row[2]], ['0', '3'], 'no client online, lag 3');
  await screenshot(page, '07-groups');
  await page.click(`#groups a:text-is("${GROUP}")`);
  await page.waitForSelector('#progress');
  assert.strictEqual(await page.textContent('#group-lag'), '3');
  // Rows of the group's retry topic may join the topic's, as in mqadmin consumerProgress.
  const progress = (await tableRows(page, '#progress')).filter(r => r[0] === TOPIC);
  assert.strictEqual(progress.length, 4);
  assert.strictEqual(sum(progress, 3), 13, 'broker offsets');
  assert.strictEqual(sum(progress, 4), 10, 'consumer offsets');
  for (const r of progress) assert.strictEqual(Number(r[5]), Number(r[3]) - Number(r[4]), `lag of queue ${r[2]}`);
  assert.match(await page.textContent('main'), /CODE: 206 .*the consumer group\[console-group\] not online/);
  await screenshot(page, '08-group');
});

test('message lookup by key: properties and the body preview', { timeout: TIMEOUT }, async () => {
  await open(`messages?topic=${TOPIC}&key=order-7`);
  await page.waitForSelector('#by-key + .result .message');
  const card = page.locator('#by-key + .result .message');
  assert.strictEqual(await card.count(), 1);
  assert.strictEqual(await card.locator('pre.body').textContent(), 'hello from compat/console 7');
  const fields = Object.fromEntries(await tableRows(page, '#by-key + .result .message table:first-of-type'));
  assert.strictEqual(fields.Topic, TOPIC);
  assert.strictEqual(fields.Keys, 'order-7');
  assert.strictEqual(fields.Tags, 'TagA');
  assert.strictEqual(fields['Offset message ID'], sent[7].msgId);
  await screenshot(page, '09-message-by-key');
});

test('message lookup by offset id and by store time', { timeout: TIMEOUT }, async () => {
  await open(`messages?id=${sent[3].msgId}`);
  await page.waitForSelector('#by-id + .result .message');
  assert.strictEqual(await page.textContent('#by-id + .result pre.body'), 'hello from compat/console 3');
  await page.fill('#by-time #f-topic', TOPIC);
  await page.click('#by-time button');
  await page.waitForSelector('#by-time + .result p:not(.muted)');
  assert.match(await page.textContent('#by-time + .result p'), /^13 message\(s\)/);
  const bodies = await page.$$eval('#by-time + .result pre.body', els => els.map(e => e.textContent));
  assert.deepStrictEqual(bodies.sort(), sent.map((_, i) => `hello from compat/console ${i}`).sort());
  await screenshot(page, '10-message-by-id-and-time');
});

test('send page: a test message sent from the page is then found and counted', { timeout: TIMEOUT }, async () => {
  await open(`send?topic=${TOPIC}`);
  await page.fill('#f-tags', 'FromPage');
  await page.fill('#f-keys', 'page-1');
  await page.fill('#f-body', 'sent from the console page');
  await page.click('#send button');
  await page.waitForSelector('#send-result, .error');
  const result = await page.textContent('main .result');
  assert.match(result, /^SEND_OK: [0-9A-F]{32} on broker-c queue \d/);
  await screenshot(page, '11-send');
  await page.click('#send-result a');
  await page.waitForSelector('#by-id + .result .message');
  assert.strictEqual(await page.textContent('#by-id + .result pre.body'), 'sent from the console page');
  const fields = Object.fromEntries(await tableRows(page, '#by-id + .result .message table:first-of-type'));
  assert.strictEqual(fields.Keys, 'page-1');
  assert.strictEqual(fields.Tags, 'FromPage');
  await screenshot(page, '12-sent-message');
  await open(`topic/${TOPIC}`);
  await page.waitForSelector('#topic-messages');
  assert.strictEqual(await page.textContent('#topic-messages'), '14');
});

test('reset page: the group moved back to before the first message lags by all 14', { timeout: TIMEOUT }, async () => {
  await open(`reset?group=${GROUP}&topic=${TOPIC}`);
  // An hour ago, in the page's local time: before every message.
  const d = new Date(Date.now() - 3600000 - new Date().getTimezoneOffset() * 60000);
  await page.fill('#f-time', d.toISOString().slice(0, 16));
  await page.click('#reset button');
  await page.waitForSelector('#reset-result, main .result .error');
  assert.match(await page.textContent('main .result'), /No consumer was online; the console committed the offsets/);
  const rows = await tableRows(page, 'main .result table');
  assert.strictEqual(rows.length, 4);
  assert.strictEqual(sum(rows, 2), 0, 'every queue back to offset 0');
  await screenshot(page, '13-reset');
  await open(`group/${GROUP}`);
  await page.waitForSelector('#group-lag');
  assert.strictEqual(await page.textContent('#group-lag'), '14');
  await screenshot(page, '14-group-after-reset');
});

test('errors from the cluster are shown on the page, and the console keeps serving', { timeout: TIMEOUT }, async () => {
  await open('topic/NoSuchTopic');
  assert.match(await page.textContent('main .error'), /CODE: 17 .*No topic route info.*NoSuchTopic/);
  await open('messages');
  await page.fill('#by-id #f-id', 'not-an-id');
  await page.click('#by-id button');
  await page.waitForSelector('#by-id + .result .error');
  assert.match(await page.textContent('#by-id + .result .error'), /not an offset message id/);
  await screenshot(page, '15-error');
  // With the name server gone every page says so; the console itself stays up.
  await stopChild(cluster.namesrv);
  await open('cluster');
  assert.match(await page.textContent('main .error'), new RegExp(cluster.nameSrv.replace(/\./g, '\\.')));
  await screenshot(page, '16-namesrv-down');
  assert.strictEqual(consoleProc.exitCode, null, 'mqconsole still running');
  const res = await fetch(base);
  assert.strictEqual(res.status, 200);
});
