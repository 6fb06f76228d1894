"use strict";
// Drives the mqtt-auth-admin web console in Debian's headless Chromium, one step per run:
//
//   node console.test.js ADMIN_URL TOKEN OUT_DIR STEP
//
// Step "setup": signs in, creates a certificate (enabled) and saves its bundle zip into
// OUT_DIR, creates a cert-auth device, binds the certificate to it on the certificate's page.
// Step "disable": (run while a client is connected with that bundle) captures the sessions
// and device pages, disables the certificate on its page, then captures the events page.
//
// Output: one JSON object per line on stdout, which tests/integration/test_console.py reads
// as it arrives: {"step":"setup","done":true,...} with the names and the bundle path, and
// for "disable" {"clicking":true} and {"clicked":true} lines written right before and right
// after the Disable click. Screenshots go
// to docs/console/ (or CONSOLE_SCREENSHOT_DIR). Exit status 0 on success, 1 on any failure.
const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const CERT_NAME = "console-cert";
const DEVICE_ID = "console-dev";
const DEVICE_USERNAME = "console-user";
const STEP_TIMEOUT_MS = 40000;
const ACTION_TIMEOUT_MS = 10000;

const [adminUrl, token, outDir, stepArg] = process.argv.slice(2);
const step = { "1": "setup", "2": "disable" }[stepArg] || stepArg;
const screenshotDir = process.env.CONSOLE_SCREENSHOT_DIR ||
  path.resolve(__dirname, "..", "..", "docs", "console");

function report(record) {
  process.stdout.write(JSON.stringify(record) + "\n");
}

async function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "console-chromium-"));
  // A persistent context because Playwright refuses --user-data-dir in args; the profile
  // folder is fresh for every run and removed afterwards.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1200, height: 760 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  const close = async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

async function signIn(page) {
  await page.goto(adminUrl + "/");
  await page.fill("#token", token);
  await page.click("#login-form button");
  await page.waitForSelector("h1:text-is('Devices')");
}

async function shot(page, name) {
  fs.mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, name + ".png"), fullPage: true });
}

async function openCert(page) {
  await page.click("header a[data-page=certs]");
  await page.click(`#rows a:text-is('${CERT_NAME}')`);
  await page.waitForSelector(`h1:text-is('Certificate ${CERT_NAME}')`);
}

async function setup(page) {
  await signIn(page);

  await page.click("header a[data-page=certs]");
  await page.fill("#c-name", CERT_NAME);
  await page.check("#c-enabled");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.click("#create button"),
  ]);
  const bundle = path.join(outDir, download.suggestedFilename());
  await download.saveAs(bundle);
  await page.waitForSelector(`h1:text-is('Certificate ${CERT_NAME}')`);
  const certId = decodeURIComponent(new URL(page.url()).hash.replace(/^#\/certs\//, ""));

  await page.click("header a[data-page=devices]");
  await page.fill("#d-id", DEVICE_ID);
  await page.fill("#d-user", DEVICE_USERNAME);
  await page.selectOption("#d-auth", "cert");
  await page.fill("#d-labels", "site=lab,product=meter");
  await page.click("#create button");
  await page.waitForSelector(`#flash.ok:has-text('Created ${DEVICE_ID}')`);
  await page.waitForSelector(`#rows a:text-is('${DEVICE_ID}')`);
  await shot(page, "devices");

  await openCert(page);
  await page.fill("#bind-ids", DEVICE_ID);
  await page.click("#bind button");
  await page.waitForSelector(`#flash.ok:has-text('Bound ${DEVICE_ID}')`);
  await page.waitForSelector(`[data-unbind='${DEVICE_ID}']`);
  await shot(page, "certificate");

  await page.click("header a[data-page=certs]");
  await page.waitForSelector(`#rows a:text-is('${CERT_NAME}')`);
  await shot(page, "certificates");

  report({ step: "setup", done: true, cert_name: CERT_NAME, cert_id: certId, device: DEVICE_ID,
           username: DEVICE_USERNAME, bundle });
}

async function disable(page) {
  await signIn(page);

  await page.click("header a[data-page=sessions]");
  await page.waitForSelector(`#rows a:text-is('${DEVICE_ID}')`);
  await shot(page, "sessions");

  await page.click(`#rows a:text-is('${DEVICE_ID}')`);
  await page.waitForSelector("#session #kick");
  await page.waitForSelector("a.mono[href^='#/certs/']");
  await shot(page, "device");

  await openCert(page);
  await page.waitForSelector("#cert-state .on");
  const toggle = page.locator("#toggle:text-is('Disable')");
  await toggle.waitFor();
  // Reported just before the click, so the test's 1 s budget includes the click itself.
  report({ step: "disable", clicking: true });
  await toggle.click();
  report({ step: "disable", clicked: true });
  await page.waitForSelector("#cert-state .off");
  await page.waitForSelector("#flash.ok:text-is('Disabled.')");

  // After the kick the events view holds the connection, the kick and the disconnection.
  await page.click("header a[data-page=events]");
  await page.waitForSelector("#events tbody td:text-is('kicked')");
  await page.waitForSelector("#events tbody td:text-is('disconnect')");
  await shot(page, "events");
  report({ step: "disable", done: true });
}

async function main() {
  if (!adminUrl || !token || !outDir || !["setup", "disable"].includes(step)) {
    process.stderr.write("usage: node console.test.js ADMIN_URL TOKEN OUT_DIR setup|disable (or 1|2)\n");
    return 2;
  }
  const watchdog = setTimeout(() => {
    process.stderr.write(`step ${step} took longer than ${STEP_TIMEOUT_MS} ms\n`);
    process.exit(1);
  }, STEP_TIMEOUT_MS);
  const { context, close } = await launch();
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on("pageerror", error => process.stderr.write(`page error: ${error.message}\n`));
    await (step === "setup" ? setup(page) : disable(page));
    return 0;
  } finally {
    await close();
    clearTimeout(watchdog);
  }
}

main().then(code => { process.exitCode = code; }, error => {
  process.stderr.write(`console step ${step} failed: ${error.stack || error}\n`);
  process.exitCode = 1;
});
