'use strict';
// Consumer groups with ali-ons: clustering splits a topic's queues between the
// members of a group; broadcasting gives every member every message.
const test = require('node:test');
const assert = require('node:assert');
const { Message } = require('ali-ons');
const { Cluster } = require('../lib/servers');
const { Clients, ownedQueues, waitFor, sleep } = require('../lib/clients');

const TIMEOUT = 60000;
let cluster;
let clients;

test.before(async () => {
  cluster = await new Cluster().start();
  clients = new Clients(cluster);
});
test.after(async () => {
  if (cluster) await cluster.stop();
  // ali-ons keeps a process-wide client with timers alive; leave once the results are out.
  setTimeout(() => process.exit(), 200);
});

// Records every delivery as { who, queueId, body } in `log`.
function record(consumer, who, topic, log) {
  consumer.subscribe(topic, '*', async msg => {
    log.push({ who, queueId: msg.queueId, body: msg.body.toString() });
  });
}

async function sendBodies(producer, topic, prefix, n) {
  const bodies = [];
  for (let i = 0; i < n; i++) {
    const body = `${prefix}-${i}`;
    const r = await producer.send(new Message(topic, 'T', body));
    assert.strictEqual(r.sendStatus, 'SEND_OK', `send of ${body}`);
    bodies.push(body);
  }
  return bodies;
}

test('two consumers in one group split the queues and together get every message exactly once', { timeout: TIMEOUT }, async () => {
  const topic = 'NodeSplitTopic';
  const producer = clients.producer('PG_node_split');
  await clients.createTopic(producer, topic, 4);
  // ali-ons rebalances on a timer only (it ignores NOTIFY_CONSUMER_IDS_CHANGED): make it quick.
  const opts = who => ({ instanceName: who, rebalanceInterval: 500 });
  const c1 = clients.consumer('CG_node_split', opts('split-1'));
  const c2 = clients.consumer('CG_node_split', opts('split-2'));
  const log = [];
  record(c1, 'split-1', topic, log);
  record(c2, 'split-2', topic, log);
  await Promise.all([c1.ready(), c2.ready()]);
  // Both members must see each other (GET_CONSUMER_LIST_BY_GROUP) before anything is sent,
  // otherwise a queue handed over mid-test could legitimately be delivered twice.
  const owned = await waitFor(() => {
    const a = ownedQueues(c1, topic);
    const b = ownedQueues(c2, topic);
    return a.length === 2 && b.length === 2 ? { a, b } : null;
  }, 20000, () => `2 + 2 queues, have ${JSON.stringify(ownedQueues(c1, topic))} and ${JSON.stringify(ownedQueues(c2, topic))}`);
  assert.deepStrictEqual([...owned.a, ...owned.b].sort(), [0, 1, 2, 3], 'the two halves cover all four queues');

  const sent = await sendBodies(producer, topic, 'split', 40);
  await waitFor(() => log.length >= sent.length, 30000, () => `${sent.length} deliveries, have ${log.length}`);
  await sleep(1000); // a duplicate would show up now
  assert.deepStrictEqual(log.map(d => d.body).sort(), sent.slice().sort(), 'every message once, none twice');
  for (const d of log) {
    const mine = d.who === 'split-1' ? owned.a : owned.b;
    assert.ok(mine.includes(d.queueId), `${d.body} from queue ${d.queueId} went to ${d.who}, which owns ${mine}`);
  }
  assert.ok(log.some(d => d.who === 'split-1') && log.some(d => d.who === 'split-2'), 'both members consumed');
  await Promise.all([c1.close(), c2.close()]);
  await producer.close();
});

test('broadcast: each consumer of the group gets every message', { timeout: TIMEOUT }, async () => {
  const topic = 'NodeBroadcastTopic';
  const producer = clients.producer('PG_node_bcast');
  await clients.createTopic(producer, topic, 4);
  const opts = who => ({ instanceName: who, isBroadcast: true, rebalanceInterval: 500 });
  const c1 = clients.consumer('CG_node_bcast', opts('bcast-1'));
  const c2 = clients.consumer('CG_node_bcast', opts('bcast-2'));
  const log = [];
  record(c1, 'bcast-1', topic, log);
  record(c2, 'bcast-2', topic, log);
  await Promise.all([c1.ready(), c2.ready()]);
  await waitFor(() => ownedQueues(c1, topic).length === 4 && ownedQueues(c2, topic).length === 4, 20000,
    () => `4 queues each, have ${JSON.stringify(ownedQueues(c1, topic))} and ${JSON.stringify(ownedQueues(c2, topic))}`);

  const sent = await sendBodies(producer, topic, 'bcast', 12);
  await waitFor(() => log.length >= 2 * sent.length, 30000, () => `${2 * sent.length} deliveries, have ${log.length}`);
  await sleep(500);
  for (const who of ['bcast-1', 'bcast-2']) {
    assert.deepStrictEqual(log.filter(d => d.who === who).map(d => d.body).sort(), sent.slice().sort(),
      `${who} got every message exactly once`);
  }
  await Promise.all([c1.close(), c2.close()]);
  await producer.close();
});
