import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from './browser.test-helpers'
// The factories alone: the package index loads nock, which patches http.ClientRequest and would bypass the runtime's agents.
import * as events from '@open-actions/testing/events'
import { postJson, SAMPLE_SECRETS, startTestRuntime } from './runtime-harness.test-helpers'
import { createRuntimeServer } from './server/app'
import type { StartedRuntime } from './start'

/*
 * The web page in a real browser (browser.test-helpers: Debian's chromium, driven by playwright-core).
 */

let runtime: StartedRuntime
let browser: Browser
let page: Page

beforeAll(async () => {
  runtime = await startTestRuntime()
  browser = await launchChromium()
  // Clipboard access, for "Copy as cURL" and "Copy as configuration".
  const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] })
  page = await context.newPage()
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

async function until(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${runtime.url}/metrics`)).text()
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN)
}

describe('the console: connections, mappings, dead letters, live stats', () => {
  it('knows no vendor: samples and sandbox settings come from the server', async () => {
    const script = await (await fetch(`${runtime.url}/app.js`)).text()
    for (const vendorWord of [
      'insider',
      'moengage',
      'onesignal',
      'trayapp',
      'segment.io',
      'sandbox-',
      'Order Completed'
    ])
      expect(script.toLowerCase()).not.toContain(vendorWord.toLowerCase())
    const served = (await (await fetch(`${runtime.url}/v1/console`)).json()) as { samples: Record<string, unknown> }
    await page.click('nav button[data-tab="tester"]')
    const options = await page.locator('#tester-sample option').allInnerTexts()
    expect(options).toStrictEqual(Object.keys(served.samples))
    await page.selectOption('#tester-destination', 'moengage/destination')
    expect(await page.inputValue('#setting-api_id')).toBe('SANDBOXWS01')
    expect(await page.inputValue('#setting-region')).toBe('DC_01')
  })

  it('tests the connection with typed-in settings, naming the setting to fix, and of each configured instance', async () => {
    await page.selectOption('#tester-destination', 'insider/destination')
    await page.click('#tester-test-connection')
    await page.waitForFunction(() => document.querySelector('#tester-connection')?.textContent === 'Connection OK')
    // The vendor refuses the key once: the answer names the credential to check, and the field is marked.
    await postJson(`${runtime.url}/v1/sandbox/faults`, {
      host: 'unification.useinsider.com',
      status: 401,
      body: { message: 'invalid token' },
      times: 1
    })
    await page.click('#tester-test-connection')
    await page.waitForFunction(() =>
      document.querySelector('#tester-connection')?.textContent?.startsWith('Connection failed')
    )
    expect(await page.locator('#tester-connection').innerText()).toMatch(/^Connection failed \(check: ucd_key\): /)
    expect(await page.getAttribute('#setting-ucd_key', 'aria-invalid')).toBe('true')
    expect(await page.getAttribute('#setting-account_name', 'aria-invalid')).toBeNull()
    // A setting that does not validate is named before anything is sent.
    await page.fill('#setting-account_name', '')
    await page.click('#tester-test-connection')
    await page.waitForFunction(() =>
      document.querySelector('#tester-connection')?.textContent?.startsWith('Connection failed')
    )
    expect(await page.getAttribute('#setting-account_name', 'aria-invalid')).toBe('true')
    await page.selectOption('#tester-destination', 'insider/destination')

    await page.click('nav button[data-tab="instances"]')
    await page.click('#instances-table tr[data-instance="moengage"] button.test-connection')
    await page.waitForFunction(
      () => document.querySelector('.connection-result[data-instance="moengage"]')?.textContent === 'Connection OK'
    )
  })

  it('edits a mapping, shows the payload it makes, names a field the action lacks, and copies the configuration', async () => {
    await page.click('nav button[data-tab="tester"]')
    await page.selectOption('#tester-destination', 'segment/destination')
    await page.selectOption('#tester-sample', 'track')
    const subscriptions = [
      {
        name: 'Track',
        partnerAction: 'sendTrack',
        subscribe: 'type = "track"',
        mapping: { event_name: 'Renamed In The Console', user_id: { '@path': '$.userId' } }
      }
    ]
    await page.fill('#tester-subscriptions', JSON.stringify(subscriptions))
    await page.click('#tester-run')
    const payload = page.locator('.subscription.matched .payload')
    await payload.waitFor()
    expect(JSON.parse(await payload.innerText())).toMatchObject({
      event_name: 'Renamed In The Console',
      user_id: 'user-1234'
    })
    const wrong = [{ partnerAction: 'sendTrack', subscribe: 'type = "track"', mapping: { evnt: 'x' } }]
    await page.fill('#tester-subscriptions', JSON.stringify(wrong))
    await page.click('#tester-run')
    await page.locator('.subscription-problem').first().waitFor()
    expect(await page.locator('.subscription-problem').first().innerText()).toMatch(
      /^mapping\.evnt: Send Track has no field "evnt" \(fields: user_id, /
    )
    await page.fill('#tester-subscriptions', '[{"partnerAction": "sendTrack"')
    await page.click('#tester-run')
    await page.locator('.subscriptions-error').waitFor()
    expect(await page.locator('.subscriptions-error').innerText()).toMatch(/^The subscriptions are not valid JSON/)
    await page.fill('#tester-subscriptions', JSON.stringify(subscriptions))
    await page.click('#tester-copy-config')
    const copied = JSON.parse(await page.evaluate(() => navigator.clipboard.readText())) as Record<string, unknown>
    expect(copied).toStrictEqual({
      id: 'segment',
      integration: 'segment',
      definition: 'destination',
      settings: { write_key: '${SEGMENT_WRITE_KEY}', region: 'us' },
      subscriptions
    })
  })

  it('copies a captured request as cURL, secrets redacted', async () => {
    await page.selectOption('#tester-destination', 'insider/destination')
    await page.fill('#setting-ucd_key', 'typed-secret-for-curl')
    await page.selectOption('#tester-sample', 'identify')
    await page.click('#tester-run')
    const copy = page.locator('.subscription.matched button.copy-curl').first()
    await copy.waitFor()
    await copy.click()
    const curl = await page.evaluate(() => navigator.clipboard.readText())
    expect(curl.split(' \\\n  ')[0]).toBe("curl -X POST 'https://unification.useinsider.com/api/user/v1/upsert'")
    expect(curl).toContain("-H 'x-request-token: [REDACTED]'")
    expect(curl).toContain('--data-raw \'{"users":[')
    expect(curl).not.toContain('typed-secret-for-curl')
  })

  it('lists, filters, shows and replays dead letters, with progress', async () => {
    await postJson(`${runtime.url}/v1/sandbox/faults`, {
      host: 'api.onesignal.com',
      status: 400,
      body: { errors: ['tags must be a flat object'] },
      times: 1
    })
    await postJson(
      `${runtime.url}/v1/events`,
      events.identifyEvent({ messageId: 'console-dead-1', userId: 'u-dead-1' })
    )
    await runtime.runtime.drain()
    await page.click('nav button[data-tab="dead-letters"]')
    await page.selectOption('#filter-instance', 'onesignal')
    await page.fill('#filter-reason', 'flat object')
    await page.click('#filter-apply')
    const rows = page.locator('#dead-letter-table tbody tr')
    await rows.first().waitFor()
    expect(await rows.count()).toBe(1)
    expect(await rows.first().getAttribute('data-instance')).toBe('onesignal')
    expect(await rows.first().locator('td.reason').innerText()).toBe(
      'OneSignal rejected the request (HTTP 400): tags must be a flat object'
    )
    await rows.first().locator('button.show-letter').click()
    await page.locator('#dead-letter-detail .request').first().waitFor()
    const detail = await page.locator('#dead-letter-detail').innerText()
    expect(detail).toContain('"messageId": "console-dead-1"')
    expect(detail).toContain('"status": 400')
    expect(detail).toContain('tags must be a flat object')
    await page.fill('#filter-reason', 'no such reason')
    await page.click('#filter-apply')
    await page.locator('#dead-letter-empty').waitFor()
    await page.fill('#filter-reason', '')
    await page.click('#filter-apply')
    await rows.first().waitFor()
    await rows.first().locator('input.select-letter').check()
    await page.click('#replay-selected')
    await page.waitForFunction(
      () => /^Replayed 1: done$/.test(document.querySelector('#replay-progress')?.textContent ?? ''),
      undefined,
      {
        timeout: 15_000
      }
    )
    await page.waitForFunction(() => document.querySelectorAll('#dead-letter-table tbody tr').length === 0)
  })

  it('streams live stats over server-sent events, per instance, and pauses the stream in a hidden tab', async () => {
    await page.click('nav button[data-tab="stats"]')
    await page.waitForFunction(() => document.querySelector('#stats-connection')?.textContent === 'live')
    expect(await metric('open_actions_console_streams')).toBe(1)
    const before = Number(await page.locator('#stats-instances tr[data-instance="moengage"] td').nth(1).innerText())
    await postJson(
      `${runtime.url}/v1/events`,
      events.identifyEvent({ messageId: 'console-live-1', userId: 'u-live-1' })
    )
    await page.waitForFunction(
      (previous) =>
        Number(document.querySelectorAll('#stats-instances tr[data-instance="moengage"] td')[1]?.textContent) >
        previous,
      before,
      { timeout: 10_000 }
    )
    expect(await page.locator('#stats-totals dd[data-stat="backlog"]').innerText()).toMatch(/^\d+$/)
    // Hidden: the page closes its stream; visible again: it opens one.
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true })
      document.dispatchEvent(new Event('visibilitychange'))
    })
    await until(async () => (await metric('open_actions_console_streams')) === 0)
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true })
      document.dispatchEvent(new Event('visibilitychange'))
    })
    await page.waitForFunction(() => document.querySelector('#stats-connection')?.textContent === 'live')
    expect(await metric('open_actions_console_streams')).toBe(1)
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
