'use strict';
// Starts mqnamesrv and mqbroker from the build on free 127.0.0.1 ports, by PID,
// and stops them; every wait has a timeout.
const { spawn } = require('node:child_process');
const net = require('node:net');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const BUILD = process.env.RMQ_BUILDDIR || path.resolve(__dirname, '../../../build');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

// A broker port p also needs p-2 (fast port) and p+1 (HA) free.
async function freeBrokerPort() {
  for (let i = 0; i < 50; i++) {
    const p = 20000 + Math.floor(Math.random() * 30000);
    const ok = await Promise.all([p - 2, p, p + 1].map(q => new Promise(res => {
      const s = net.createServer();
      s.once('error', () => res(false));
      s.listen(q, '127.0.0.1', () => s.close(() => res(true)));
    })));
    if (ok.every(Boolean)) return p;
  }
  throw new Error('no free broker port');
}

function waitPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => { sock.destroy(); resolve(); });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`port ${port} not open after ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

function waitExit(child, timeoutMs) {
  return new Promise(resolve => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(true);
    const t = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => { clearTimeout(t); resolve(true); });
  });
}

class Cluster {
  async start() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rmq-compat-node-'));
    this.nsPort = await freePort();
    this.brokerPort = await freeBrokerPort();
    const nsConf = path.join(this.dir, 'namesrv.properties');
    fs.writeFileSync(nsConf, `listenPort=${this.nsPort}\nlistenAddress=127.0.0.1\nkvConfigPath=${this.dir}/kvConfig.json\n`);
    this.namesrv = this.spawn('mqnamesrv', ['-c', nsConf], 'namesrv.log');
    await waitPort(this.nsPort, 10000);
    this.nameSrv = `127.0.0.1:${this.nsPort}`;
    await this.startBroker();
    return this;
  }

  async startBroker() {
    const conf = path.join(this.dir, 'broker.conf');
    fs.writeFileSync(conf, [
      'brokerClusterName=DefaultCluster', 'brokerName=broker-c', 'brokerId=0',
      'brokerIP1=127.0.0.1', 'listenAddress=127.0.0.1', `listenPort=${this.brokerPort}`,
      `storePathRootDir=${this.dir}/store`, 'mappedFileSizeCommitLog=67108864',
      'flushDiskType=ASYNC_FLUSH', '',
    ].join('\n'));
    this.broker = this.spawn('mqbroker', ['-c', conf, '-n', this.nameSrv], 'broker.log');
    await waitPort(this.brokerPort, 10000);
    this.brokerAddr = `127.0.0.1:${this.brokerPort}`;
    // The broker registers at start; give the name server a moment to have it.
    await new Promise(r => setTimeout(r, 300));
  }

  async stopBroker(signal = 'SIGTERM') {
    this.broker.kill(signal);
    if (!await waitExit(this.broker, 10000)) throw new Error('broker did not stop');
  }

  spawn(bin, args, log) {
    const out = fs.openSync(path.join(this.dir, log), 'a');
    return spawn(path.join(BUILD, bin), args, { stdio: ['ignore', out, out] });
  }

  async stop() {
    for (const p of [this.broker, this.namesrv]) {
      if (!p || p.exitCode !== null) continue;
      p.kill('SIGTERM');
      if (!await waitExit(p, 5000)) p.kill('SIGKILL');
    }
  }

  log(name) {
    try { return fs.readFileSync(path.join(this.dir, name), 'utf8'); } catch (e) { return ''; }
  }
}

module.exports = { Cluster };
