import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join, normalize } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { Browser, Page, Request } from 'playwright-core'
import { launchChromium } from './browser.test-helpers'
import { startTestRuntime } from './runtime-harness.test-helpers'
import type { StartedRuntime } from './start'

/*
 * Segment's own browser SDK, @segment/analytics-next, from its UMD build on npm, unchanged, in Chromium, on a page
 * served from another origin than the runtime's (another port). Its Segment.io settings point `apiHost` at the
 * runtime: it sends each call as text/plain to /v1/{p,i,t} (or a batch to /v1/b), after a CORS preflight because of
 * its Authorization header. What reaches the sandboxed vendors is asserted.
 */
const UMD_DIR = join(dirname(require.resolve('@segment/analytics-next/package.json')), 'dist', 'umd')
const WRITE_KEY = 'sandbox-tracking-write-key'

let runtime: StartedRuntime & { logs: string[] }
let site: Server
let siteUrl: string
let browser: Browser

/** The shop's page: loads the SDK from its own origin and sends to the runtime, as a customer's site would. */
function pageHtml(apiHost: string, strategy: 'standard' | 'batching'): string {
  const segmentIo = {
    apiKey: WRITE_KEY,
    apiHost,
    protocol: 'http',
    ...(strategy === 'batching'
      ? { deliveryStrategy: { strategy: 'batching', config: { size: 3, timeout: 200 } } }
      : {})
  }
  return `<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>
<script src="/umd/index.js"></script>
<script>
  window.loaded = AnalyticsNext.AnalyticsBrowser.load(
    { writeKey: ${JSON.stringify(WRITE_KEY)}, cdnSettings: { integrations: { 'Segment.io': ${JSON.stringify(segmentIo)} } } },
    { initialPageview: false }
  ).then(([analytics]) => { window.analytics = analytics; return true })
</script></body></html>`
}

beforeAll(async () => {
  runtime = await startTestRuntime()
  const apiHost = `${new URL(runtime.url).host}/v1`
  site = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://site')
    if (url.pathname === '/' || url.pathname === '/batching') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      response.end(pageHtml(apiHost, url.pathname === '/' ? 'standard' : 'batching'))
      return
    }
    const file = normalize(join(UMD_DIR, url.pathname.replace(/^\/umd\//, '')))
    if (url.pathname.startsWith('/umd/') && file.startsWith(UMD_DIR) && existsSync(file)) {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' })
      response.end(readFileSync(file))
      return
    }
    response.writeHead(404).end()
  })
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve))
  siteUrl = `http://localhost:${(site.address() as AddressInfo).port}`
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await new Promise((resolve) => (site ? site.close(resolve) : resolve(undefined)))
  await runtime?.stop()
})

async function openShop(path: string): Promise<{ page: Page; requests: Request[] }> {
  const page = await browser.newPage()
  const requests: Request[] = []
  page.on('request', (request) => {
    if (request.url().startsWith(runtime.url)) requests.push(request)
  })
  await page.goto(`${siteUrl}${path}`)
  await page.waitForFunction(() => (window as unknown as { loaded?: Promise<boolean> }).loaded !== undefined)
  await page.evaluate(() => (window as unknown as { loaded: Promise<boolean> }).loaded)
  return { page, requests }
}

function vendorBodies(url: string): unknown[] {
  return runtime.runtime.recorder
    .list({ limit: 1000 })
    .filter((record) => record.url === url)
    .map((record) => record.body)
}

describe('@segment/analytics-next in Chromium against the runtime, from another origin', () => {
  it('sends page, identify and track (text/plain, after a preflight) and the vendors receive them', async () => {
    const { page, requests } = await openShop('/')
    expect(new URL(page.url()).origin).not.toBe(new URL(runtime.url).origin)
    const delivered = await page.evaluate(async () => {
      type Sdk = {
        page(name: string, properties: object): Promise<{ event: { messageId: string } }>
        identify(id: string, traits: object): Promise<{ event: { messageId: string } }>
        track(event: string, properties: object): Promise<{ event: { messageId: string } }>
      }
      const analytics = (window as unknown as { analytics: Sdk }).analytics
      const viewed = await analytics.page('Pricing', { title: 'Pricing', url: 'https://shop.example/pricing' })
      const identified = await analytics.identify('browser-user-1', {
        email: 'browser.user@example.com',
        first_name: 'Brow'
      })
      const tracked = await analytics.track('Product Viewed', {
        product_id: 'sku-9',
        name: 'Teapot',
        price: 24,
        currency: 'EUR',
        url: 'https://shop.example/teapot'
      })
      return [viewed.event.messageId, identified.event.messageId, tracked.event.messageId]
    })

    const posts = requests.filter((request) => request.method() === 'POST')
    expect(posts.map((request) => new URL(request.url()).pathname)).toStrictEqual(['/v1/p', '/v1/i', '/v1/t'])
    for (const request of posts) {
      expect(request.headers()['content-type']).toMatch(/^text\/plain/)
      expect(request.headers().authorization).toBe(`Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`)
      expect((await request.response())?.status()).toBe(200)
    }
    await page.close()
    // Chromium asked first (the Authorization header makes the request non-simple) and was let through.
    expect(runtime.logs.some((line) => line.includes('"method":"OPTIONS"') && line.includes('"status":204'))).toBe(true)

    await runtime.runtime.drain()
    const [pageId, identifyId, trackId] = delivered
    const tray = vendorBodies('https://0d4f2a1e-sandbox-one.trayapp.io/') as Record<string, unknown>[]
    const byId = new Map(tray.map((message) => [message.messageId, message]))
    expect(byId.get(pageId)).toMatchObject({ type: 'page', name: 'Pricing', properties: { title: 'Pricing' } })
    expect(byId.get(identifyId)).toMatchObject({ type: 'identify', userId: 'browser-user-1' })
    expect(byId.get(trackId)).toMatchObject({ type: 'track', event: 'Product Viewed', userId: 'browser-user-1' })
    for (const message of [byId.get(pageId), byId.get(identifyId), byId.get(trackId)]) {
      expect(message).not.toHaveProperty('writeKey')
      expect(message).toMatchObject({ context: { library: { name: 'analytics.js' } } })
      expect(typeof message?.receivedAt).toBe('string')
    }
    // Insider: the page view, the user, and the product view with its properties.
    const insider = JSON.stringify(vendorBodies('https://unification.useinsider.com/api/user/v1/upsert'))
    expect(insider).toContain('"email":"browser.user@example.com"')
    expect(insider).toContain('"event_name":"product_detail_page_view"')
    expect(insider).toContain('"product_id":"sku-9"')
    // MoEngage: the identified customer and the tracked event.
    const moengage = JSON.stringify(vendorBodies('https://api-01.moengage.com/v1/transition/SANDBOXWS01'))
    expect(moengage).toContain('"customer_id":"browser-user-1"')
    expect(moengage).toContain('"action":"Product Viewed"')
  })

  it('batches to /v1/b when the SDK is set to batching', async () => {
    const { page, requests } = await openShop('/batching')
    const ids = await page.evaluate(async () => {
      type Sdk = { track(event: string, properties: object): Promise<{ event: { messageId: string } }> }
      const analytics = (window as unknown as { analytics: Sdk }).analytics
      const sent = await Promise.all([
        analytics.track('Batched One', { n: 1 }),
        analytics.track('Batched Two', { n: 2 }),
        analytics.track('Batched Three', { n: 3 })
      ])
      return sent.map((context) => context.event.messageId)
    })
    const deadline = Date.now() + 5000
    while (!requests.some((request) => request.method() === 'POST') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20))
    const batch = requests.find((request) => request.method() === 'POST')
    expect(batch && new URL(batch.url()).pathname).toBe('/v1/b')
    expect((await batch?.response())?.status()).toBe(200)
    await page.close()
    await runtime.runtime.drain()
    const tray = vendorBodies('https://0d4f2a1e-sandbox-one.trayapp.io/') as Record<string, unknown>[]
    expect(ids.map((id) => tray.find((message) => message.messageId === id)?.event)).toStrictEqual([
      'Batched One',
      'Batched Two',
      'Batched Three'
    ])
  })
})
