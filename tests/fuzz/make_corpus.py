#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/<harness>/ from the frames captured
between official clients and Apache RocketMQ 4.9.8 (tests/golden/*.jsonl), plus a few
hand-written seeds for the text formats no capture carries. Each seed is named by the
SHA-1 of its content, as libFuzzer names its own. Run from anywhere; rewrites the
corpora (`python3 tests/fuzz/make_corpus.py`)."""
import glob
import hashlib
import json
import os
import shutil
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, '..', 'golden')
MAX_SEEDS = 200          # per harness
MAX_SEED_BYTES = 8192    # larger frames add bytes, not coverage


def frames():
    """Every remoting frame of the captures, with the wire bytes rebuilt."""
    for path in sorted(glob.glob(os.path.join(GOLDEN, '*.jsonl'))):
        for line in open(path):
            d = json.loads(line)
            if 'code' not in d or 'header' not in d:
                continue
            if d['serialize'] == 'ROCKETMQ':
                header = bytes.fromhex(d['header']['hex'])
                ser = 1
            else:
                header = json.dumps(d['header'], separators=(',', ':'), ensure_ascii=False).encode()
                ser = 0
            body = bytes.fromhex(d.get('body_hex', ''))
            frame = struct.pack('>I', ser << 24 | len(header)) + header + body
            d['wire'] = struct.pack('>I', len(frame)) + frame
            d['body'] = body
            d['file'] = os.path.basename(path)
            yield d


def ext(d):
    h = d['header']
    return (h['decoded'] if 'decoded' in h else h).get('extFields') or {}


class Corpus:
    def __init__(self, name):
        self.dir = os.path.join(HERE, 'corpus', name)
        self.seen = set()
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)

    def add(self, data):
        if isinstance(data, str):
            data = data.encode()
        if len(data) > MAX_SEED_BYTES or len(self.seen) >= MAX_SEEDS:
            return
        h = hashlib.sha1(data).hexdigest()
        if h in self.seen:
            return
        self.seen.add(h)
        with open(os.path.join(self.dir, h), 'wb') as f:
            f.write(data)


def distinct(items, key, per_key):
    """At most per_key items for each key value, in order."""
    count = {}
    for it in items:
        k = key(it)
        if count.get(k, 0) < per_key:
            count[k] = count.get(k, 0) + 1
            yield it


def remoting(all_frames):
    c = Corpus('remoting')
    key = lambda d: (d['file'], d['code'], d['rpc'], d['serialize'], d['src'])
    for d in distinct(all_frames, key, 2):
        c.add(d['wire'])
    # A few connections' worth of frames back to back, as a read buffer holds them.
    for i in range(0, 120, 6):
        c.add(b''.join(d['wire'] for d in all_frames[i:i + 6]))


def broker(all_frames):
    """Request sequences of one client connection to the broker, cut in runs of 12."""
    c = Corpus('broker')
    conns = {}
    for d in all_frames:
        if d['dst'] == 'broker' and d['rpc'] != 'response':
            conns.setdefault((d['file'], d['conn']), []).append(d['wire'])
    for reqs in conns.values():
        for i in range(0, len(reqs), 12):
            c.add(b''.join(reqs[i:i + 12]))


def fjson_seeds(all_frames):
    c = Corpus('fjson')
    key = lambda d: (d['file'], d['code'], d['rpc'], d.get('req_code'))
    for d in distinct(all_frames, key, 2):
        if d['body'][:1] in (b'{', b'['):
            c.add(d['body'])
    for path in sorted(glob.glob(os.path.join(HERE, '..', 'meta', 'golden', '*.json'))):
        c.add(open(path, 'rb').read())
    for text in ('{0:"a",1:"b"}', "{'k':'v',}", '{{"brokerName":"b","queueId":1,"topic":"t"}:5}',
                 '[1.5e3,-0,9223372036854775807,"\\u00e9\\ud83d\\ude00",true,null]', '{a:{b:{c:[]}}}'):
        c.add(text)


def message(all_frames):
    c = Corpus('message')
    key = lambda d: (d['file'], d['code'], d['rpc'], d.get('req_code'))
    for d in distinct(all_frames, key, 3):
        e = ext(d)
        rec_body = d['rpc'] == 'response' and d.get('req_code') in (11, 12, 33) and d['body']
        if rec_body and d['body'][4:8] == b'\xda\xa3\x20\xa7':
            c.add(b'\x00' + d['body'])
        if d['code'] == 320 and d['rpc'] != 'response':
            c.add(b'\x01' + d['body'])
        for k in ('properties', 'i'):
            if k in e and d['code'] in (10, 310, 320, 325):
                c.add(b'\x02' + e[k].encode())
        for k in ('msgId', 'offsetMsgId', 'brokerAddr'):
            if k in e:
                c.add(b'\x03' + e[k].encode())
    c.add(b'\x031s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h')
    c.add(b'\x03[::1]:10911')


def sql(all_frames):
    c = Corpus('sql')
    props = [ext(d)['i'] for d in all_frames if d['code'] == 310 and 'i' in ext(d)][:4]
    exprs = set()
    for d in all_frames:
        if d['code'] in (11, 34) and d['rpc'] != 'response':
            try:
                body = json.loads(d['body']) if d['body'] else {}
            except ValueError:
                body = {}
            for cd in body.get('consumerDataSet', []):
                for sd in cd.get('subscriptionDataSet', []):
                    exprs.add((sd.get('expressionType'), sd.get('subString')))
            e = ext(d)
            if 'subscription' in e:
                exprs.add((e.get('expressionType', 'TAG'), e['subscription']))
    exprs |= {('SQL92', "a > 5 AND b IN ('x', 'y') OR c IS NOT NULL"),
              ('SQL92', "TAGS LIKE 'Tag%' AND NOT (x BETWEEN -1.5 AND 2e3)"),
              ('SQL92', "s = 'it''s' OR t <> TRUE OR u IS NULL OR v NOT IN ('1')"),
              ('TAG', 'TagA || TagB ||  || *')}
    for i, (typ, expr) in enumerate(sorted(exprs, key=str)):
        if expr is None:
            continue
        flag = b'\x01' if typ == 'TAG' else b'\x00'
        p = props[i % len(props)] if props else 'a\x016\x02color\x01red'
        c.add(flag + expr.encode() + b'\x00' + p.encode())


def config(all_frames):
    c = Corpus('config')
    for d in all_frames:
        if d['rpc'] == 'response' and d.get('req_code') in (26, 319) and d['body']:
            c.add(d['body'])
    c.add('brokerClusterName = DefaultCluster\nbrokerName=broker-a\nbrokerId:0\n'
          'deleteWhen=04\nfileReservedTime=48\nbrokerRole=ASYNC_MASTER\nflushDiskType=ASYNC_FLUSH\n'
          '# comment\n! also a comment\nnamesrvAddr=127.0.0.1:9876;127.0.0.2:9876\n'
          'autoCreateTopicEnable=true\nmappedFileSizeCommitLog=1073741824\n'
          'tls.server.mode=permissive\ntls.server.need.client.auth=none\n')
    c.add('listenPort=9876\nkvConfigPath=/tmp/kv.json\\\n   continued\norderMessageEnable\tTRUE\n'
          'key\\:with\\=escapes = value \\u00e9\\n\nconfigBlackList=configBlackList;configStorePath\n')


ACL_YAML = [
    'globalWhiteRemoteAddresses:\n  - 10.10.103.*\n  - 192.168.0.*\n\naccounts:\n'
    '  - accessKey: RocketMQ\n    secretKey: 12345678\n    whiteRemoteAddress:\n    admin: false\n'
    '    defaultTopicPerm: DENY\n    defaultGroupPerm: SUB\n    topicPerms:\n      - topicA=DENY\n'
    '      - topicB=PUB|SUB\n    groupPerms:\n      - groupA=DENY\n      - groupB=PUB|SUB\n\n'
    '  - accessKey: rocketmq2\n    secretKey: 12345678\n    whiteRemoteAddress: 192.168.1.*\n    admin: true\n',
    'accounts:\n- accessKey: "ak"\n  secretKey: \'sk\'\n  whiteRemoteAddress: 127.0.0.{1,2}\n'
    '  defaultTopicPerm: PUB\n  topicPerms: [t1=SUB, t2=PUB]\n',
    'globalWhiteRemoteAddresses: []\naccounts: []\n',
]


def acl(all_frames):
    c = Corpus('acl')
    reqs = [d for d in all_frames if d['dst'] in ('broker', 'namesrv') and d['rpc'] != 'response']
    key = lambda d: (d['code'], d['serialize'], 'AccessKey' in ext(d))
    for i, d in enumerate(distinct(reqs, key, 1)):
        yaml = ACL_YAML[i % len(ACL_YAML)]
        remote = ['127.0.0.1:40000', '192.168.1.7:5000', '10.10.103.1:1'][i % 3]
        c.add(bytes([i & 1]) + yaml.encode() + b'\x00' + remote.encode() + b'\x0012345678\x00' + d['wire'][4:])


ACL2_BODIES = [
    '{"subject":"User:u","policies":[{"entries":[{"resource":"Topic:*","actions":["Pub","Sub"],"decision":"Allow"},'
    '{"resource":"Group:*","actions":["Sub"],"decision":"Allow"}]}]}',
    '{"policies":[{"entries":[{"resource":"Topic:Test*","actions":["All"],"sourceIps":["127.0.0.0/8","::1"],'
    '"decision":"Deny"},{"resource":"*","actions":["Pub"],"decision":"Allow"}]},'
    '{"policyType":"Default","entries":[{"resource":"Group:g","actions":["Sub","Get"],"decision":"Allow"}]}]}',
    '{"subject":"User:u","policies":[{"entries":[{"resource":"Cluster:C","actions":["Update","Get"],'
    '"decision":"allow","sourceIps":["10.0.0.0/33"]}]}]}',
    '',
]


def acl2(all_frames):
    c = Corpus('acl2')
    reqs = [d for d in all_frames if d['dst'] == 'broker' and d['rpc'] != 'response']
    for i, d in enumerate(distinct(reqs, lambda d: (d['code'], d['serialize']), 1)):
        body = ACL2_BODIES[i % len(ACL2_BODIES)]
        remote = ['127.0.0.1:40000', '10.1.2.3:5000'][i % 2]
        c.add(bytes([i & 7]) + body.encode() + b'\x00' + remote.encode() + b'\x00secret\x00' + d['wire'][4:])


def topic_line(name, tc):
    return '%s %d %d %d %s' % (name, tc['readQueueNums'], tc['writeQueueNums'], tc['perm'],
                               tc.get('topicFilterType', 'SINGLE_TAG'))


def compressed(body):
    """RegisterBrokerBody.encode(true) of a JSON body."""
    j = json.loads(body)
    w = j['topicConfigSerializeWrapper']
    chunk = lambda b: struct.pack('>i', len(b)) + b
    out = chunk(json.dumps(w['dataVersion'], separators=(',', ':')).encode())
    table = w['topicConfigTable']
    out += struct.pack('>i', len(table))
    for name, tc in table.items():
        out += chunk(topic_line(name, tc).encode())
    out += chunk(json.dumps(j.get('filterServerList', [])).encode())
    return zlib.compress(out)


def regbody(all_frames):
    c = Corpus('regbody')
    regs = [d for d in all_frames if d['code'] == 103 and d['rpc'] != 'response' and d['body']]
    for d in distinct(regs, lambda d: (d['file'], d['src'], d['rpc']), 3):
        c.add(b'\x00' + d['body'])
        c.add(b'\x05' + compressed(d['body']))
        wrapper = json.dumps(json.loads(d['body'])['topicConfigSerializeWrapper'], separators=(',', ':'))
        c.add(b'\x02' + wrapper.encode())


def ha():
    """Inputs for fuzz_ha: [uint32 n][n bytes master->slave][slave->master reports]."""
    c = Corpus('ha')
    master, reports = b'', []
    for line in open(os.path.join(GOLDEN, 'ha-master-slave.jsonl')):
        d = json.loads(line)
        # The master's stream, rebuilt from its segments up to the first one cut short.
        if d.get('kind') == 'raw' and d['src'] == 'broker' and d['stream_offset'] == len(master):
            if not d.get('hex_truncated'):
                master += bytes.fromhex(d['hex'])
            else:
                master += b'\xff'  # ends the run of whole segments
        elif d.get('kind') == 'slave_report':
            reports.append(struct.pack('>q', d['max_phy_offset']))
    master = master.rstrip(b'\xff') if master.endswith(b'\xff') else master
    frames, pos = [], 0
    while pos + 12 <= len(master):
        size = struct.unpack('>i', master[pos + 8:pos + 12])[0]
        if pos + 12 + size > len(master):
            break
        frames.append(master[pos:pos + 12 + size])
        pos += 12 + size
    for i in range(len(frames)):
        for j in (1, 2, 4):
            stream = b''.join(frames[i:i + j])
            rep = b''.join(reports[i:i + j])
            c.add(struct.pack('>I', len(stream)) + stream + rep)


def main():
    all_frames = list(frames())
    remoting(all_frames)
    broker(all_frames)
    fjson_seeds(all_frames)
    message(all_frames)
    sql(all_frames)
    config(all_frames)
    acl(all_frames)
    acl2(all_frames)
    regbody(all_frames)
    ha()
    for d in sorted(os.listdir(os.path.join(HERE, 'corpus'))):
        files = os.listdir(os.path.join(HERE, 'corpus', d))
        size = sum(os.path.getsize(os.path.join(HERE, 'corpus', d, f)) for f in files)
        print('%-10s %4d seeds %7d bytes' % (d, len(files), size))


if __name__ == '__main__':
    main()
