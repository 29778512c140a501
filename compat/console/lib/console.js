'use strict';
// mqconsole from the build beside a started Cluster (compat/node/lib/servers.js),
// Debian's Chromium driven headless by playwright-core, and the ali-ons clients
// that give the pages something to show. Every wait has a deadline.
const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const BUILD = process.env.RMQ_BUILDDIR || path.resolve(__dirname, '../../../build');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '../artifacts');

// Starts mqconsole on a free port (-p 0) and resolves with its base URL once it says where it listens.
function startConsole(nameSrv, logDir) {
  const child = spawn(path.join(BUILD, 'mqconsole'), ['-n', nameSrv, '-a', '127.0.0.1', '-p', '0'],
    { stdio: ['ignore', 'pipe', fs.openSync(path.join(logDir, 'console.log'), 'a')] });
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`mqconsole did not start in 10 s: ${out}`)), 10000);
    child.once('exit', code => { clearTimeout(t); reject(new Error(`mqconsole exited with ${code}: ${out}`)); });
    child.stdout.on('data', d => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+\/)/);
      if (m) { clearTimeout(t); child.removeAllListeners('exit'); resolve({ child, url: m[1] }); }
    });
  });
}

async function stopChild(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise(r => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(t);
}

// Our mqadmin, for what the suite sets up (topics); resolves with its standard output.
function mqadmin(args) {
  return new Promise((resolve, reject) => {
    execFile(path.join(BUILD, 'mqadmin'), args, { timeout: 30000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`mqadmin ${args.join(' ')}: ${err.message} ${stderr}`));
      else resolve(stdout);
    });
  });
}

// A fresh profile directory each run (playwright passes it as --user-data-dir); resolves with the context.
async function launchBrowser() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rmq-console-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60000,
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return { browser, profile };
}

async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

// The cells of a table's body rows, as text.
function tableRows(page, selector) {
  return page.$$eval(`${selector} tbody tr`, rows => rows.map(r => [...r.cells].map(c => c.textContent.trim())));
}

module.exports = { BUILD, CHROMIUM, ARTIFACTS, startConsole, stopChild, mqadmin, launchBrowser, screenshot, tableRows };
