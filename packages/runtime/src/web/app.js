// The runtime's web page: catalog, event tester and delivery stats. Plain browser JavaScript, no build step.
'use strict'

const SAMPLE_EVENTS = {
  identify: {
    type: 'identify',
    userId: 'user-1234',
    anonymousId: 'anon-5678',
    messageId: 'sample-identify-1',
    timestamp: '2024-05-01T12:00:00.000Z',
    traits: {
      email: 'jane.doe@example.com',
      phone: '+14155550100',
      firstName: 'Jane',
      lastName: 'Doe',
      plan: 'pro',
      address: { city: 'San Francisco', country: 'US' }
    },
    context: { locale: 'en-US', library: { name: 'analytics.js', version: '2.11.1' } }
  },
  track: {
    type: 'track',
    event: 'Signed Up',
    userId: 'user-1234',
    anonymousId: 'anon-5678',
    messageId: 'sample-track-1',
    timestamp: '2024-05-01T12:00:00.000Z',
    properties: { plan: 'pro' }
  },
  page: {
    type: 'page',
    name: 'Pricing',
    userId: 'user-1234',
    messageId: 'sample-page-1',
    timestamp: '2024-05-01T12:00:00.000Z',
    properties: { path: '/pricing' }
  },
  'Product Viewed': {
    type: 'track',
    event: 'Product Viewed',
    userId: 'user-1234',
    anonymousId: 'anon-5678',
    messageId: 'sample-product-viewed-1',
    timestamp: '2024-05-01T12:00:00.000Z',
    properties: {
      product_id: '507f1f77bcf86cd799439011',
      name: 'Monopoly: 3rd Edition',
      category: 'Games',
      price: 18.99,
      quantity: 1,
      currency: 'USD',
      url: 'https://www.example.com/product/path'
    }
  },
  'Order Completed': {
    type: 'track',
    event: 'Order Completed',
    userId: 'user-1234',
    anonymousId: 'anon-5678',
    messageId: 'sample-order-1',
    timestamp: '2024-05-01T12:00:00.000Z',
    properties: {
      order_id: '50314b8e9bcf000000000000',
      checkout_id: 'fksdjfsdjfisjf9sdfjsd9f',
      revenue: 25,
      shipping: 3,
      tax: 2,
      discount: 2.5,
      coupon: 'hasbros',
      currency: 'USD',
      products: [
        {
          product_id: '507f1f77bcf86cd799439011',
          name: 'Monopoly: 3rd Edition',
          category: 'Games',
          price: 18.99,
          quantity: 1
        },
        { product_id: '505bd76785ebb509fc183733', name: 'Uno Card Game', category: 'Games', price: 3, quantity: 2 }
      ]
    }
  },
  'Audience Entered': {
    type: 'track',
    event: 'Audience Entered',
    userId: 'user-1234',
    messageId: 'sample-audience-1',
    timestamp: '2024-05-01T12:00:00.000Z',
    properties: { audience_key: 'vip_users', vip_users: true },
    context: {
      traits: { email: 'jane.doe@example.com' },
      personas: { computation_class: 'audience', computation_key: 'vip_users' }
    }
  }
}

let catalog = { integrations: [] }

function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'text') node.textContent = value
    else node.setAttribute(key, value)
  }
  for (const child of children) node.append(child)
  return node
}

function json(value) {
  return element('pre', { text: JSON.stringify(value, null, 2) })
}

// Token mode: the API answers 401 until the page sends the runtime's token. It is asked for once and kept for this
// browser session only (sessionStorage), never in the URL or a cookie.
const TOKEN_KEY = 'open-actions-token'

let pendingToken = null

function askForToken(message) {
  // Requests that fail together wait for the same answer.
  if (pendingToken) return pendingToken
  pendingToken = promptForToken(message).finally(() => {
    pendingToken = null
  })
  return pendingToken
}

function promptForToken(message) {
  const dialog = document.getElementById('token-dialog')
  document.getElementById('token-message').textContent = message
  const input = document.getElementById('token-input')
  input.value = ''
  dialog.showModal()
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        const token = input.value.trim()
        if (token) sessionStorage.setItem(TOKEN_KEY, token)
        resolve(token)
      },
      { once: true }
    )
  })
}

async function api(path, options = {}) {
  for (;;) {
    const token = sessionStorage.getItem(TOKEN_KEY)
    const response = await fetch(path, {
      ...options,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(options.headers || {})
      }
    })
    const body = await response.json()
    if (response.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY)
      const entered = await askForToken(
        token ? 'That token was not accepted. Enter the runtime’s token.' : 'This runtime needs its token.'
      )
      if (entered) continue
    }
    if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`)
    return body
  }
}

function destinations() {
  return catalog.integrations.flatMap((integration) =>
    integration.destinations.map((destination) => ({ integration, destination }))
  )
}

function selectedDestination() {
  const [slug, key] = document.getElementById('tester-destination').value.split('/')
  return destinations().find((entry) => entry.integration.slug === slug && entry.destination.key === key)
}

function renderSettingsForm() {
  const fieldset = document.getElementById('tester-settings')
  fieldset.replaceChildren(element('legend', { text: 'Settings' }))
  const entry = selectedDestination()
  if (!entry) return
  for (const setting of entry.destination.settings) {
    const id = `setting-${setting.key}`
    let input
    if (setting.choices) {
      input = element('select', { id, name: setting.key })
      for (const choice of setting.choices) {
        const value = typeof choice === 'string' ? choice : choice.value
        input.append(element('option', { value, text: typeof choice === 'string' ? choice : choice.label }))
      }
      if (setting.default !== undefined) input.value = setting.default
    } else if (setting.type === 'boolean') {
      input = element('input', { id, name: setting.key, type: 'checkbox' })
      input.checked = setting.default === true
    } else {
      input = element('input', {
        id,
        name: setting.key,
        type: setting.type === 'password' ? 'password' : 'text',
        autocomplete: 'off',
        placeholder: setting.multiple ? 'comma-separated' : ''
      })
      input.value = sampleSetting(entry, setting)
    }
    fieldset.append(element('label', { for: id }, [`${setting.label}${setting.required ? ' *' : ''}`, input]))
  }
}

/** Values the sandbox accepts, so the tester works at once; replace them with your own. */
function sampleSetting(entry, setting) {
  if (setting.type === 'password') return `sandbox-${setting.key}`
  if (setting.key === 'app_id') return '00000000-0000-4000-8000-000000000001'
  if (setting.key === 'workflows') return 'https://0d4f2a1e-sandbox-one.trayapp.io'
  if (setting.key === 'account_name') return 'sandboxstore'
  if (setting.default !== undefined) return String(setting.default)
  return setting.required ? `sandbox_${setting.key}` : ''
}

function readSettings() {
  const entry = selectedDestination()
  const settings = {}
  for (const setting of entry.destination.settings) {
    const input = document.getElementById(`setting-${setting.key}`)
    if (setting.type === 'boolean') settings[setting.key] = input.checked
    else if (input.value !== '')
      settings[setting.key] = setting.multiple
        ? input.value
            .split(',')
            .map((value) => value.trim())
            .filter(Boolean)
        : input.value
  }
  return settings
}

function renderReport(report) {
  const output = document.getElementById('tester-output')
  output.replaceChildren()
  if (report.settingsError) output.append(element('p', { class: 'error', text: `Settings: ${report.settingsError}` }))
  for (const subscription of report.subscriptions) {
    const box = element('div', {
      class: `subscription ${subscription.matched ? 'matched' : 'unmatched'}`,
      'data-action': subscription.partnerAction
    })
    box.append(
      element('h3', { text: `${subscription.name} — ${subscription.matched ? 'matched' : 'not matched'}` }),
      element('code', { text: subscription.subscribe })
    )
    if (subscription.matched) {
      box.append(element('h4', { text: 'Mapped payload' }), json(subscription.payload))
      if (subscription.error)
        box.append(element('p', { class: 'error validation-error', text: subscription.error.message }))
      else box.append(element('p', { class: 'ok', text: 'Delivered (sandbox)' }))
      for (const request of subscription.requests) {
        box.append(
          element('h4', { text: `${request.method} ${request.url}` }),
          json({ headers: request.headers, body: request.body }),
          element('h4', { text: 'Simulated response' }),
          json(request.response)
        )
      }
    }
    output.append(box)
  }
}

async function runTest(submitEvent) {
  submitEvent.preventDefault()
  const output = document.getElementById('tester-output')
  const entry = selectedDestination()
  let event
  try {
    event = JSON.parse(document.getElementById('tester-event').value)
  } catch (error) {
    output.replaceChildren(element('p', { class: 'error', text: `The event is not valid JSON: ${error.message}` }))
    return
  }
  try {
    const report = await api('/v1/test', {
      method: 'POST',
      body: JSON.stringify({
        integration: entry.integration.slug,
        definition: entry.destination.key,
        settings: readSettings(),
        event
      })
    })
    renderReport(report)
  } catch (error) {
    output.replaceChildren(element('p', { class: 'error', text: error.message }))
  }
}

function renderCatalog() {
  const list = document.getElementById('catalog-list')
  list.replaceChildren()
  for (const integration of catalog.integrations) {
    const section = element('article', { class: 'integration' }, [
      element('h3', { text: `${integration.packageName} ${integration.version}` })
    ])
    for (const destination of integration.destinations) {
      section.append(element('h4', { text: `${destination.name} — ${destination.description}` }))
      const settings = element('table', {}, [
        element(
          'tr',
          {},
          ['setting', 'type', 'required', 'default'].map((text) => element('th', { text }))
        )
      ])
      for (const setting of destination.settings) {
        settings.append(
          element(
            'tr',
            {},
            [
              setting.key,
              setting.type,
              setting.required ? 'yes' : '',
              setting.default === undefined ? '' : JSON.stringify(setting.default)
            ].map((text) => element('td', { text }))
          )
        )
      }
      section.append(settings)
      const actions = element('ul')
      for (const action of destination.actions)
        actions.append(
          element('li', {
            text: `${action.title} (${action.key}) — ${action.fields.length} fields${action.batching ? ', batching' : ''} — ${action.defaultSubscription || ''}`
          })
        )
      section.append(
        actions,
        element('p', {
          class: 'hint',
          text: `Presets: ${destination.presets.map((preset) => preset.name).join(', ') || 'none'}`
        })
      )
    }
    for (const source of integration.sources)
      section.append(element('p', { text: `Source: ${source.name} — ${source.description}` }))
    list.append(section)
  }
}

function renderChart(series) {
  const svg = document.getElementById('stats-chart')
  const now = Math.floor(Date.now() / 1000)
  const seconds = 300
  const max = Math.max(1, ...series.map((bucket) => Math.max(bucket.events, bucket.delivered, bucket.errors)))
  const line = (kind, color) => {
    const byTime = new Map(series.map((bucket) => [bucket.second, bucket[kind]]))
    const points = []
    for (let offset = seconds; offset >= 0; offset -= 1)
      points.push(`${((seconds - offset) / seconds) * 600},${160 - ((byTime.get(now - offset) || 0) / max) * 150}`)
    const polyline = document.createElementNS('http://www.w3.org/2000/svg', 'polyline')
    polyline.setAttribute('points', points.join(' '))
    polyline.setAttribute('fill', 'none')
    polyline.setAttribute('stroke', color)
    polyline.setAttribute('class', `series-${kind}`)
    return polyline
  }
  svg.replaceChildren(line('events', '#2a5bd7'), line('delivered', '#196c2e'), line('errors', '#a0182b'))
}

async function refreshStats() {
  try {
    const [stats, deliveries, health] = await Promise.all([
      api('/v1/stats'),
      api('/v1/deliveries?limit=20'),
      api('/health')
    ])
    renderChart(stats.series)
    const totals = stats.series.reduce(
      (sum, bucket) => ({ events: sum.events + bucket.events, errors: sum.errors + bucket.errors }),
      { events: 0, errors: 0 }
    )
    document.getElementById('stats-summary').textContent =
      `Last 5 minutes: ${totals.events} events, ${totals.errors} errors. ${stats.deliveries} requests recorded, ${stats.deadLetters} dead letters.`
    const body = document.querySelector('#deliveries tbody')
    body.replaceChildren(
      ...deliveries.deliveries.map((record) =>
        element(
          'tr',
          {},
          [
            String(record.id),
            record.instance || '',
            `${record.method} ${record.url}`,
            record.response ? String(record.response.status ?? record.response.error) : '…'
          ].map((text) => element('td', { text }))
        )
      )
    )
    const badge = document.getElementById('health')
    badge.textContent = `${health.status} · ${health.transport}`
    badge.className = 'badge ok'
  } catch (error) {
    document.getElementById('health').textContent = `unreachable: ${error.message}`
  }
}

function showTab(name) {
  for (const button of document.querySelectorAll('nav button'))
    button.classList.toggle('active', button.dataset.tab === name)
  for (const section of document.querySelectorAll('.tab')) section.classList.toggle('active', section.id === name)
}

async function init() {
  catalog = await api('/v1/catalog')
  const select = document.getElementById('tester-destination')
  for (const { integration, destination } of destinations())
    select.append(element('option', { value: `${integration.slug}/${destination.key}`, text: destination.name }))
  select.addEventListener('change', renderSettingsForm)
  const samples = document.getElementById('tester-sample')
  for (const name of Object.keys(SAMPLE_EVENTS)) samples.append(element('option', { value: name, text: name }))
  samples.addEventListener(
    'change',
    () => (document.getElementById('tester-event').value = JSON.stringify(SAMPLE_EVENTS[samples.value], null, 2))
  )
  document.getElementById('tester-event').value = JSON.stringify(SAMPLE_EVENTS.identify, null, 2)
  document.getElementById('tester-form').addEventListener('submit', runTest)
  for (const button of document.querySelectorAll('nav button'))
    button.addEventListener('click', () => showTab(button.dataset.tab))
  renderSettingsForm()
  renderCatalog()
  await refreshStats()
  setInterval(refreshStats, 2000)
}

init().catch((error) => {
  document.body.prepend(element('p', { class: 'error', text: `The page could not load: ${error.message}` }))
})
