'use strict';
// mqconsole's page: one view per hash route (#/topics, #/topic/NAME, ...), each
// drawn from the JSON endpoints under /api/. Text from the cluster is only ever
// set as text (never parsed as HTML).

const view = document.getElementById('view');

// el('td', {class: 'num'}, 'text', child, ...)
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function link(href, text) { return el('a', { href }, text); }

function fmtTime(ms) {
  if (!ms || ms <= 0) return '';
  const d = new Date(ms), p = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

// A table: columns [{title, num?}], rows of cells (text or nodes).
function table(columns, rows, attrs) {
  return el('table', attrs,
    el('thead', {}, el('tr', {}, columns.map(c => el('th', { class: c.num ? 'num' : null }, c.title)))),
    el('tbody', {}, rows.map(r => el('tr', {}, r.map((cell, i) => el('td', { class: columns[i].num ? 'num' : null }, cell))))));
}

function errorBox(msg) { return el('div', { class: 'error', role: 'alert' }, msg); }

async function api(path, params) {
  const qs = params ? '?' + new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v !== undefined)) : '';
  return answer(await fetch('/api/' + path + qs));
}

async function post(path, body) {
  return answer(await fetch('/api/' + path, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  }));
}

// The JSON of an answer; a failure (HTTP or the cluster's) throws its message.
async function answer(res) {
  let j;
  try { j = await res.json(); } catch (e) { throw new Error(`HTTP ${res.status}: not JSON`); }
  if (!res.ok || j.error) throw new Error(j.error || `HTTP ${res.status}`);
  return j;
}

function show(...nodes) { view.replaceChildren(...nodes.flat(Infinity)); }

// Runs load() and shows its nodes, or the error on the page.
async function render(title, load) {
  document.title = `${title} · mqconsole`;
  show(el('h1', {}, title), el('p', { class: 'muted' }, 'Loading…'));
  try {
    show(el('h1', {}, title), await load());
  } catch (e) {
    show(el('h1', {}, title), errorBox(e.message));
  }
}

// A form of labelled inputs; onsubmit gets the values and draws into the result box under it.
function form(fields, button, onsubmit, attrs) {
  const inputs = {};
  const result = el('div', { class: 'result' });
  const f = el('form', attrs || {},
    fields.map(fd => {
      const type = fd.type || 'text';
      let input;
      if (type === 'textarea') input = el('textarea', { name: fd.name, id: `f-${fd.name}` });
      else input = el('input', { type, name: fd.name, id: `f-${fd.name}`, placeholder: fd.placeholder || null });
      if (type === 'checkbox') input.checked = !!fd.value;
      else if (fd.value !== undefined) input.value = fd.value;
      inputs[fd.name] = input;
      return el('label', { class: type === 'checkbox' ? 'check' : null, for: `f-${fd.name}` }, fd.label, input);
    }),
    el('button', { type: 'submit' }, button));
  f.addEventListener('submit', async ev => {
    ev.preventDefault();
    const values = {};
    for (const [k, i] of Object.entries(inputs)) values[k] = i.type === 'checkbox' ? i.checked : i.value.trim();
    result.replaceChildren(el('p', { class: 'muted' }, 'Working…'));
    try {
      result.replaceChildren(...[await onsubmit(values)].flat(Infinity));
    } catch (e) {
      result.replaceChildren(errorBox(e.message));
    }
  });
  // A form submits only once it is in the document: the view is drawn after it returns.
  return { form: f, result, inputs, submit: () => setTimeout(() => f.requestSubmit(), 0) };
}

// ---- cluster ----

// putTps and getTransferedTps hold three figures (Apache: 10 s, 1 min and 10 min windows); the first, rounded.
function tps(s) { return s ? Number(s.split(' ')[0]).toFixed(2) : ''; }

async function clusterView() {
  const c = await api('cluster');
  const out = [el('p', { class: 'muted' }, 'Name servers: ', c.namesrvs.join('; '))];
  if (!c.clusters.length) out.push(el('p', {}, 'No broker has registered with the name servers.'));
  for (const cl of c.clusters) {
    const rows = [];
    for (const b of cl.brokers) {
      for (const a of b.addrs) {
        const s = a.status || {}, h = s.headline || {};
        rows.push([b.name, a.id, a.role, link(`#/broker/${encodeURIComponent(a.addr)}`, a.addr),
          h.brokerVersionDesc || '', tps(h.putTps), tps(h.getTransferedTps),
          h.msgPutTotalTodayNow || '', h.msgGetTotalTodayNow || '', h.commitLogDiskRatio || '',
          s.error ? el('span', { class: 'error' }, s.error) : 'OK']);
      }
    }
    out.push(el('h2', {}, `Cluster ${cl.name}`),
      table([{ title: 'Broker' }, { title: 'ID', num: true }, { title: 'Role' }, { title: 'Address' }, { title: 'Version' },
        { title: 'Put TPS', num: true }, { title: 'Get TPS', num: true }, { title: 'Put today', num: true },
        { title: 'Get today', num: true }, { title: 'Disk ratio', num: true }, { title: 'Status' }], rows, { id: 'brokers' }));
  }
  return out;
}

async function brokerView(addr) {
  const b = await api('broker', { addr });
  return [el('p', {}, link('#/cluster', '← cluster')),
    table([{ title: 'Key' }, { title: 'Value' }], b.table, { id: 'broker-status' })];
}

// ---- topics ----

async function topicsView() {
  const t = await api('topics');
  const filter = el('input', { type: 'text', id: 'topic-filter', placeholder: 'filter' });
  const all = el('input', { type: 'checkbox', id: 'topic-all' });
  const holder = el('div');
  const draw = () => {
    const f = filter.value.toLowerCase();
    const rows = t.topics.filter(x => (all.checked || x.kind === 'normal') && x.name.toLowerCase().includes(f))
      .map(x => [link(`#/topic/${encodeURIComponent(x.name)}`, x.name), x.kind]);
    holder.replaceChildren(table([{ title: 'Topic' }, { title: 'Kind' }], rows, { id: 'topics' }));
  };
  filter.addEventListener('input', draw);
  all.addEventListener('change', draw);
  draw();
  return [el('form', {}, el('label', {}, 'Filter', filter), el('label', { class: 'check' }, all, 'system, retry and DLQ topics')), holder];
}

async function topicView(name) {
  const t = await api('topic', { topic: name });
  const q = encodeURIComponent(name);
  return [
    el('p', {}, el('span', { class: 'stat' }, 'Messages held ', el('b', { id: 'topic-messages' }, t.messages)),
      link(`#/messages?topic=${q}`, 'Look up messages'), ' · ', link(`#/send?topic=${q}`, 'Send a test message')),
    el('h2', {}, 'Route'),
    table([{ title: 'Broker' }, { title: 'Addresses' }, { title: 'Read queues', num: true }, { title: 'Write queues', num: true }, { title: 'Perm', num: true }],
      t.brokers.map(b => [b.name, b.addrs.map(a => `${a.id}: ${a.addr}`).join(', '), b.readQueueNums, b.writeQueueNums, b.perm]), { id: 'route' }),
    el('h2', {}, 'Queues'),
    table([{ title: 'Broker' }, { title: 'Queue', num: true }, { title: 'Min offset', num: true }, { title: 'Max offset', num: true },
      { title: 'Messages', num: true }, { title: 'Last updated' }],
    t.queues.map(x => [x.broker, x.queueId, x.minOffset, x.maxOffset, x.maxOffset - x.minOffset, fmtTime(x.lastUpdateTimestamp)]), { id: 'queues' }),
  ];
}

// ---- consumer groups and connections ----

async function groupsView() {
  const g = await api('groups');
  if (!g.groups.length) return el('p', {}, 'No consumer group has consumed yet.');
  return table([{ title: 'Group' }, { title: 'Clients online', num: true }, { title: 'Lag', num: true }, { title: 'Consume TPS', num: true }, { title: 'Note' }],
    g.groups.map(x => [link(`#/group/${encodeURIComponent(x.group)}`, x.group), x.clients, x.lag ?? '', x.consumeTps ?? '', x.error || '']), { id: 'groups' });
}

function connectionsTable(c) {
  const out = [table([{ title: 'Client ID' }, { title: 'Address' }, { title: 'Language' }, { title: 'Version' }],
    c.clients.map(x => [x.clientId, x.clientAddr, x.language, x.version]), { class: 'connections' })];
  if (c.consumeType) out.push(el('p', {}, `${c.consumeType} · ${c.messageModel} · ${c.consumeFromWhere}`));
  if (c.subscriptions) {
    out.push(table([{ title: 'Subscribed topic' }, { title: 'Expression' }], c.subscriptions.map(s => [s.topic, s.expression])));
  }
  return out;
}

async function groupView(name) {
  const g = await api('group', { group: name });
  return [
    el('p', {}, el('span', { class: 'stat' }, 'Lag ', el('b', { id: 'group-lag' }, g.lag)),
      el('span', { class: 'stat' }, 'Consume TPS ', el('b', {}, g.consumeTps.toFixed(2))),
      link(`#/reset?group=${encodeURIComponent(name)}`, 'Reset offset')),
    el('h2', {}, 'Progress'),
    table([{ title: 'Topic' }, { title: 'Broker' }, { title: 'Queue', num: true }, { title: 'Broker offset', num: true },
      { title: 'Consumer offset', num: true }, { title: 'Lag', num: true }, { title: 'Last consumed' }],
    g.queues.map(q => [q.topic, q.broker, q.queueId, q.brokerOffset, q.consumerOffset, q.lag, fmtTime(q.lastTimestamp)]), { id: 'progress' }),
    el('h2', {}, 'Connections'),
    g.connections.error ? el('p', { class: 'muted' }, g.connections.error) : connectionsTable(g.connections),
  ];
}

function connectionsView(params) {
  const f = form([{ name: 'group', label: 'Consumer or producer group', value: params.get('group') || '' },
    { name: 'topic', label: 'Topic (for a producer group)', value: params.get('topic') || '' }], 'Show',
  async v => {
    const c = await api('connections', { group: v.group, topic: v.topic });
    return [el('p', {}, `${c.clients.length} ${c.kind} connection(s)`), connectionsTable(c)];
  });
  if (params.get('group')) f.submit();
  return [f.form, f.result];
}

// ---- messages ----

function messageCard(m) {
  const props = Object.entries(m.properties).sort(([a], [b]) => a.localeCompare(b));
  return el('div', { class: 'card message' },
    table([{ title: 'Field' }, { title: 'Value' }], [
      ['Message ID', m.msgId], ['Offset message ID', m.offsetMsgId], ['Topic', m.topic],
      ['Tags', m.properties.TAGS || ''], ['Keys', m.properties.KEYS || ''],
      ['Queue', `${m.broker} / ${m.queueId} @ ${m.queueOffset}`], ['Commit log offset', m.commitLogOffset],
      ['Born', `${fmtTime(m.bornTimestamp)} from ${m.bornHost}`], ['Stored', `${fmtTime(m.storeTimestamp)} at ${m.storeHost}`],
      ['Reconsume times', m.reconsumeTimes], ['Body size', `${m.bodySize} bytes`],
    ]),
    el('h2', {}, 'Properties'),
    table([{ title: 'Key' }, { title: 'Value' }], props),
    el('h2', {}, `Body${m.bodyEncoding === 'hex' ? ' (hex)' : ''}${m.bodyTruncated ? ' (first bytes)' : ''}`),
    el('pre', { class: 'body' }, m.body));
}

function messageList(r) {
  if (!r.messages.length) return el('p', { class: 'muted' }, 'No message found.');
  return [el('p', {}, `${r.messages.length} message(s)${r.more ? ', more not shown' : ''}`), r.messages.map(messageCard)];
}

function localInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

function messagesView(params) {
  const topic = params.get('topic') || '';
  const byId = form([{ name: 'id', label: 'Message ID (offset or unique)', value: params.get('id') || '' },
    { name: 'topic', label: 'Topic (for a unique ID)', value: topic }], 'Find by ID',
  async v => messageList(await api('message/id', v)), { id: 'by-id' });
  const byKey = form([{ name: 'topic', label: 'Topic', value: topic }, { name: 'key', label: 'Key', value: params.get('key') || '' }],
    'Find by key', async v => messageList(await api('message/key', v)), { id: 'by-key' });
  const now = Date.now();
  const byTime = form([{ name: 'topic', label: 'Topic', value: topic },
    { name: 'begin', label: 'Stored from', type: 'datetime-local', value: localInput(now - 3600000) },
    { name: 'end', label: 'to', type: 'datetime-local', value: localInput(now + 60000) }], 'Find by time',
  async v => messageList(await api('message/time', {
    topic: v.topic, begin: new Date(v.begin).getTime(), end: new Date(v.end).getTime() + 59999,
  })), { id: 'by-time' });
  if (params.get('id')) byId.submit();
  else if (params.get('key')) byKey.submit();
  return [el('h2', {}, 'By ID'), byId.form, byId.result, el('h2', {}, 'By key'), byKey.form, byKey.result,
    el('h2', {}, 'By store time'), byTime.form, byTime.result];
}

// ---- actions ----

function sendView(params) {
  const f = form([{ name: 'topic', label: 'Topic', value: params.get('topic') || '' }, { name: 'tags', label: 'Tag' },
    { name: 'keys', label: 'Keys (space-separated)' }, { name: 'body', label: 'Body', type: 'textarea' }], 'Send',
  async v => {
    const r = await post('send', v);
    const find = `#/messages?topic=${encodeURIComponent(v.topic)}&id=${encodeURIComponent(r.msgId)}`;
    return el('div', { class: 'ok', id: 'send-result' }, `${r.status}: ${r.msgId} on ${r.broker} queue ${r.queueId} · `,
      link(find, 'look it up'));
  }, { id: 'send' });
  return [el('p', { class: 'muted' }, 'Sends one message as a producer would (SEND_MESSAGE_V2).'), f.form, f.result];
}

function resetView(params) {
  const f = form([{ name: 'group', label: 'Consumer group', value: params.get('group') || '' },
    { name: 'topic', label: 'Topic', value: params.get('topic') || '' },
    { name: 'time', label: 'To the first message stored at', type: 'datetime-local' },
    { name: 'now', label: 'to the end instead (skip everything)', type: 'checkbox' },
    { name: 'force', label: 'also forward (force)', type: 'checkbox', value: true }], 'Reset',
  async v => {
    if (!v.now && !v.time) throw new Error('choose a time, or the end');
    const r = await post('reset', {
      group: v.group, topic: v.topic, timestamp: v.now ? -1 : new Date(v.time).getTime(), force: v.force,
    });
    const by = r.by === 'broker' ? 'The broker reset the online consumers' : 'No consumer was online; the console committed the offsets';
    return [el('div', { class: 'ok', id: 'reset-result' }, `${by}.`),
      table([{ title: 'Broker' }, { title: 'Queue', num: true }, { title: 'New offset', num: true }],
        r.queues.map(q => [q.broker, q.queueId, q.offset]))];
  }, { id: 'reset' });
  return [el('p', { class: 'muted' }, 'resetOffsetByTime: moves the group\'s offsets of a topic to a time.'), f.form, f.result];
}

// ---- routing ----

const routes = [
  [/^cluster$/, () => render('Cluster', clusterView)],
  [/^broker\/(.+)$/, m => render(`Broker ${m[1]}`, () => brokerView(m[1]))],
  [/^topics$/, () => render('Topics', topicsView)],
  [/^topic\/(.+)$/, m => render(`Topic ${m[1]}`, () => topicView(m[1]))],
  [/^groups$/, () => render('Consumer groups', groupsView)],
  [/^group\/(.+)$/, m => render(`Consumer group ${m[1]}`, () => groupView(m[1]))],
  [/^connections$/, (m, p) => render('Connections', async () => connectionsView(p))],
  [/^messages$/, (m, p) => render('Messages', async () => messagesView(p))],
  [/^send$/, (m, p) => render('Send a test message', async () => sendView(p))],
  [/^reset$/, (m, p) => render('Reset a group\'s offset', async () => resetView(p))],
];

function route() {
  const hash = location.hash.replace(/^#\/?/, '') || 'cluster';
  const [path, query] = hash.split('?');
  const params = new URLSearchParams(query || '');
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', path.startsWith(a.getAttribute('href').slice(2).replace(/s$/, '')));
  }
  for (const [re, fn] of routes) {
    const m = path.match(re);
    if (m) return fn(m.map((x, i) => (i ? decodeURIComponent(x) : x)), params);
  }
  show(el('h1', {}, 'Not found'), errorBox(`no page ${path}`));
}

window.addEventListener('hashchange', route);
route();
