import { existsSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { type Browser, chromium, type Page } from 'playwright-core'
// The factories alone: the package index loads nock, which patches http.ClientRequest and would bypass the runtime's agents.
import * as events from '@open-actions/testing/events'
import { postJson, SAMPLE_SECRETS, startTestRuntime } from './runtime-harness.test-helpers'
import { createRuntimeServer } from './server/app'
import type { StartedRuntime } from './start'

/*
 * The web page in a real browser: Debian's chromium (which .ci/run installs), driven by playwright-core.
 * The flags keep chromium off the network this machine does not have.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

let runtime: StartedRuntime
let browser: Browser
let page: Page

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `The browser test needs chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH`
    )
  runtime = await startTestRuntime()
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync'
    ]
  })
  page = await browser.newPage()
  await page.goto(`${runtime.url}/`)
  await page.waitForSelector('#tester-destination option', { state: 'attached' })
})

afterAll(async () => {
  await browser?.close()
  await runtime?.stop()
})

describe('the runtime web page', () => {
  it('tests an event against a destination: matched subscriptions, payloads, redacted requests, simulated responses', async () => {
    await page.selectOption('#tester-destination', 'insider/destination')
    await page.fill('#setting-ucd_key', 'browser-typed-secret-42')
    expect(await page.getAttribute('#setting-ucd_key', 'type')).toBe('password')
    await page.selectOption('#tester-sample', 'Order Completed')
    await page.click('#tester-run')
    const matched = page.locator('.subscription.matched')
    await matched.first().waitFor()
    expect(await matched.count()).toBe(1)
    expect(await matched.first().getAttribute('data-action')).toBe('orderCompletedEvent')
    const text = await page.locator('#tester-output').innerText()
    expect(text).toContain('POST https://unification.useinsider.com/api/user/v1/upsert')
    expect(text).toContain('"x-request-token": "[REDACTED]"')
    expect(text).toContain('"event_name": "confirmation_page_view"')
    expect(text).toContain('Simulated response')
    expect(text).not.toContain('browser-typed-secret-42')
    expect(await page.locator('.subscription.unmatched').count()).toBe(10)
  })

  it('shows validation errors naming the field', async () => {
    await page.selectOption('#tester-destination', 'insider/destination')
    // Insider requires a currency on cart_page_view: the one thing here it cannot do without.
    const cart = events.trackEvent('Cart Viewed', { cart_id: 'c-1', products: [{ product_id: 'p', price: 3 }] })
    await page.fill('#tester-event', JSON.stringify(cart))
    await page.click('#tester-run')
    const error = page.locator('.validation-error')
    await error.first().waitFor()
    expect(await error.first().innerText()).toMatch(
      /events\[0\]\.event_params\.currency is required for cart_page_view events/
    )
  })

  it('lists the catalog of integrations from the definitions', async () => {
    await page.click('nav button[data-tab="catalog"]')
    const catalog = await page.locator('#catalog-list').innerText()
    for (const name of [
      '@open-actions/insider',
      '@open-actions/moengage',
      '@open-actions/onesignal',
      '@open-actions/tray',
      '@open-actions/segment',
      '@open-actions/one-creation'
    ])
      expect(catalog).toContain(name)
    expect(catalog).toContain('Insider One Audiences (Actions)')
    expect(catalog).toContain('Source: OneSignal message events')
  })

  it('charts deliveries and lists recent requests, secrets redacted', async () => {
    await postJson(`${runtime.url}/v1/events`, events.identifyEvent({ messageId: 'browser-1' }))
    await runtime.runtime.drain()
    await page.click('nav button[data-tab="stats"]')
    await page.waitForFunction(
      () => (document.querySelector('#deliveries tbody')?.children.length ?? 0) > 0,
      undefined,
      { timeout: 10_000 }
    )
    expect(await page.locator('#stats-chart polyline').count()).toBe(3)
    expect(await page.locator('#stats-summary').innerText()).toMatch(/Last 5 minutes: \d+ events/)
    const html = await page.content()
    for (const secret of SAMPLE_SECRETS) expect(html).not.toContain(secret)
    await page.screenshot({ path: join(tmpdir(), 'open-actions-page.png'), fullPage: true })
  })
})

describe('the web page with a token', () => {
  it('loads, asks for the token once, keeps it for the session, and breaks no CSP rule', async () => {
    const server = createRuntimeServer(runtime.runtime, { host: '127.0.0.1', token: 'page-token-31337' })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const context = await browser.newContext()
    const tokenPage = await context.newPage()
    const violations: string[] = []
    tokenPage.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text())
    })
    try {
      const answer = await tokenPage.goto(`${base}/`)
      expect(answer?.status()).toBe(200)
      const dialog = tokenPage.locator('#token-dialog')
      await dialog.waitFor({ state: 'visible' })
      expect(await tokenPage.locator('#token-message').innerText()).toBe('This runtime needs its token.')
      await tokenPage.fill('#token-input', 'wrong-token')
      await tokenPage.click('#token-submit')
      await tokenPage.waitForFunction(
        () => document.querySelector('#token-message')?.textContent?.startsWith('That token was not accepted') === true
      )
      await tokenPage.fill('#token-input', 'page-token-31337')
      await tokenPage.click('#token-submit')
      await tokenPage.waitForSelector('#tester-destination option', { state: 'attached' })
      // Kept for the browser session: a reload does not ask again.
      await tokenPage.reload()
      await tokenPage.waitForSelector('#tester-destination option', { state: 'attached' })
      expect(await dialog.isVisible()).toBe(false)
      expect(await tokenPage.evaluate(() => sessionStorage.getItem('open-actions-token'))).toBe('page-token-31337')
      expect(violations).toStrictEqual([])
    } finally {
      await context.close()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
