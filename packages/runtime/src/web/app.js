// The runtime's console: event tester with mappings, instances and their connections, dead letters, live stats and
// the catalog. Plain browser JavaScript, no build step. It knows no vendor: integrations, settings, presets, sample
// events and sandbox settings all come from the server.
'use strict'

let catalog = { integrations: [] }
let consoleData = { samples: {}, sandboxSettings: {} }
let instances = { destinations: [], sources: [] }
let latestStats

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

function authorization() {
  const token = sessionStorage.getItem(TOKEN_KEY)
  return token ? { authorization: `Bearer ${token}` } : {}
}

async function api(path, options = {}) {
  for (;;) {
    const token = sessionStorage.getItem(TOKEN_KEY)
    const response = await fetch(path, {
      ...options,
      headers: { 'content-type': 'application/json', ...authorization(), ...(options.headers || {}) }
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

function post(path, body) {
  return api(path, { method: 'POST', body: JSON.stringify(body) })
}

// ---- Copy helpers -------------------------------------------------------------------------------------------------

function shellQuote(text) {
  return `'${String(text).replace(/'/g, `'\\''`)}'`
}

/** A request as a cURL command line, from the recorded (already redacted) request. */
function curlOf(request) {
  const parts = [`curl -X ${request.method} ${shellQuote(request.url)}`]
  for (const [name, value] of Object.entries(request.headers || {})) {
    if (name === 'content-length' || name === 'host') continue
    parts.push(`-H ${shellQuote(`${name}: ${value}`)}`)
  }
  if (request.body !== undefined)
    parts.push(
      `--data-raw ${shellQuote(typeof request.body === 'string' ? request.body : JSON.stringify(request.body))}`
    )
  return parts.join(' \\\n  ')
}

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text)
    button.textContent = 'Copied'
  } catch {
    button.textContent = 'Copy failed: select the text'
  }
}

/** A recorded request with its answer and a "Copy as cURL" button. */
function requestView(request) {
  const curl = curlOf(request)
  const button = element('button', { type: 'button', class: 'copy-curl', text: 'Copy as cURL' })
  button.addEventListener('click', () => copyText(curl, button))
  return element('div', { class: 'request' }, [
    element('h4', { text: `${request.method} ${request.url}` }),
    json({ headers: request.headers, body: request.body }),
    element('h4', { text: request.transport === 'live' ? 'Response' : 'Simulated response' }),
    json(request.response),
    button,
    element('details', {}, [element('summary', { text: 'cURL' }), element('pre', { class: 'curl', text: curl })])
  ])
}

// ---- Event tester -------------------------------------------------------------------------------------------------

function destinations() {
  return catalog.integrations.flatMap((integration) =>
    integration.destinations.map((destination) => ({ integration, destination }))
  )
}

function selectedDestination() {
  // The key follows the last slash: a package's slug may hold slashes of its own (`@scope/name/dist/…`).
  const value = document.getElementById('tester-destination').value
  const cut = value.lastIndexOf('/')
  const slug = value.slice(0, cut)
  const key = value.slice(cut + 1)
  return destinations().find((entry) => entry.integration.slug === slug && entry.destination.key === key)
}

function settingValue(value) {
  return Array.isArray(value) ? value.join(', ') : value === undefined ? '' : String(value)
}

function renderSettingsForm() {
  const fieldset = document.getElementById('tester-settings')
  fieldset.replaceChildren(element('legend', { text: 'Settings' }))
  document.getElementById('tester-connection').textContent = ''
  const entry = selectedDestination()
  if (!entry) return
  const sandbox = consoleData.sandboxSettings[entry.integration.slug] || {}
  for (const setting of entry.destination.settings) {
    const id = `setting-${setting.key}`
    let input
    if (setting.choices) {
      input = element('select', { id, name: setting.key })
      for (const choice of setting.choices) {
        const value = typeof choice === 'string' ? choice : choice.value
        input.append(element('option', { value, text: typeof choice === 'string' ? choice : choice.label }))
      }
      input.value = settingValue(sandbox[setting.key] ?? setting.default)
    } else if (setting.type === 'boolean') {
      input = element('input', { id, name: setting.key, type: 'checkbox' })
      input.checked = (sandbox[setting.key] ?? setting.default) === true
    } else {
      input = element('input', {
        id,
        name: setting.key,
        type: setting.type === 'password' ? 'password' : 'text',
        autocomplete: 'off',
        placeholder: setting.multiple ? 'comma-separated' : ''
      })
      input.value = settingValue(sandbox[setting.key] ?? setting.default)
    }
    fieldset.append(element('label', { for: id }, [`${setting.label}${setting.required ? ' *' : ''}`, input]))
  }
  resetSubscriptions()
}

function resetSubscriptions() {
  const entry = selectedDestination()
  const presets = entry ? entry.destination.presets : []
  document.getElementById('tester-subscriptions').value = JSON.stringify(presets, null, 2)
  document.getElementById('tester-config').hidden = true
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

/** The subscriptions textarea, parsed and checked for shape; throws a message naming what is wrong. */
function readSubscriptions() {
  let parsed
  try {
    parsed = JSON.parse(document.getElementById('tester-subscriptions').value)
  } catch (error) {
    throw new Error(`The subscriptions are not valid JSON: ${error.message}`)
  }
  if (!Array.isArray(parsed)) throw new Error('The subscriptions must be a JSON array')
  const entry = selectedDestination()
  parsed.forEach((subscription, index) => {
    for (const key of ['partnerAction', 'subscribe'])
      if (typeof subscription[key] !== 'string' || subscription[key] === '')
        throw new Error(`subscriptions[${index}].${key} must be a non-empty string`)
    if (!entry.destination.actions.some((action) => action.key === subscription.partnerAction))
      throw new Error(
        `subscriptions[${index}].partnerAction: "${subscription.partnerAction}" is not an action of ${entry.destination.name}`
      )
    if (
      subscription.mapping !== undefined &&
      (typeof subscription.mapping !== 'object' || Array.isArray(subscription.mapping))
    )
      throw new Error(`subscriptions[${index}].mapping must be an object`)
  })
  return parsed
}

function markSettings(keys) {
  for (const input of document.querySelectorAll('#tester-settings input, #tester-settings select')) {
    const invalid = keys.includes(input.name)
    input.classList.toggle('invalid', invalid)
    if (invalid) input.setAttribute('aria-invalid', 'true')
    else input.removeAttribute('aria-invalid')
  }
}

function connectionText(report) {
  if (report.ok) return 'Connection OK'
  const settings = report.settings && report.settings.length > 0 ? ` (check: ${report.settings.join(', ')})` : ''
  return `Connection failed${settings}: ${report.error.message}`
}

async function testTesterConnection() {
  const entry = selectedDestination()
  const output = document.getElementById('tester-connection')
  output.textContent = 'testing…'
  try {
    const report = await post('/v1/test-connection', {
      integration: entry.integration.slug,
      definition: entry.destination.key,
      settings: readSettings()
    })
    output.textContent = connectionText(report)
    output.className = report.ok ? 'ok' : 'error'
    markSettings(report.ok ? [] : report.settings || [])
  } catch (error) {
    output.textContent = error.message
    output.className = 'error'
  }
}

/** The tester's destination, settings and subscriptions as a configuration entry; secrets become `${NAME}`. */
function configurationEntry() {
  const entry = selectedDestination()
  const settings = readSettings()
  for (const setting of entry.destination.settings)
    if (setting.type === 'password' && settings[setting.key] !== undefined)
      settings[setting.key] =
        `\${${`${entry.integration.slug}_${setting.key}`.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}}`
  return {
    id: entry.integration.slug,
    integration: entry.integration.slug,
    definition: entry.destination.key,
    settings,
    subscriptions: readSubscriptions()
  }
}

function copyConfiguration() {
  const target = document.getElementById('tester-config')
  const button = document.getElementById('tester-copy-config')
  try {
    const text = JSON.stringify(configurationEntry(), null, 2)
    target.textContent = text
    target.hidden = false
    void copyText(text, button)
  } catch (error) {
    target.textContent = error.message
    target.hidden = false
  }
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
    for (const problem of subscription.problems || [])
      box.append(element('p', { class: 'error subscription-problem', text: problem }))
    if (subscription.error && !subscription.matched)
      box.append(element('p', { class: 'error subscription-problem', text: subscription.error.message }))
    if (subscription.matched) {
      box.append(
        element('h4', { text: 'Mapped payload' }),
        element('pre', { class: 'payload', text: JSON.stringify(subscription.payload, null, 2) })
      )
      if (subscription.error)
        box.append(element('p', { class: 'error validation-error', text: subscription.error.message }))
      else box.append(element('p', { class: 'ok', text: 'Delivered (sandbox)' }))
      for (const request of subscription.requests) box.append(requestView(request))
    }
    output.append(box)
  }
}

async function runTest(submitEvent) {
  submitEvent.preventDefault()
  const output = document.getElementById('tester-output')
  const entry = selectedDestination()
  let event
  let subscriptions
  try {
    event = JSON.parse(document.getElementById('tester-event').value)
  } catch (error) {
    output.replaceChildren(element('p', { class: 'error', text: `The event is not valid JSON: ${error.message}` }))
    return
  }
  try {
    subscriptions = readSubscriptions()
  } catch (error) {
    output.replaceChildren(element('p', { class: 'error subscriptions-error', text: error.message }))
    return
  }
  try {
    renderReport(
      await post('/v1/test', {
        integration: entry.integration.slug,
        definition: entry.destination.key,
        settings: readSettings(),
        subscriptions,
        event
      })
    )
  } catch (error) {
    output.replaceChildren(element('p', { class: 'error', text: error.message }))
  }
}

// ---- Instances ----------------------------------------------------------------------------------------------------

function renderInstances() {
  document.getElementById('instances-transport').textContent =
    `Transport: ${instances.transport}. "Test connection" checks an instance's own settings through its own transport${instances.transport === 'live' ? ', against the real vendor' : ' (sandbox)'}.`
  const body = document.querySelector('#instances-table tbody')
  body.replaceChildren(
    ...instances.destinations.map((instance) => {
      const result = element('span', { class: 'connection-result', 'data-instance': instance.id })
      const button = element('button', { type: 'button', class: 'test-connection', text: 'Test connection' })
      button.addEventListener('click', async () => {
        result.textContent = 'testing…'
        try {
          const report = await post(`/v1/instances/${encodeURIComponent(instance.id)}/test-connection`, {})
          result.textContent = connectionText(report)
          result.className = `connection-result ${report.ok ? 'ok' : 'error'}`
        } catch (error) {
          result.textContent = error.message
          result.className = 'connection-result error'
        }
      })
      return element('tr', { 'data-instance': instance.id }, [
        element('td', { text: instance.id }),
        element('td', { text: `${instance.integration} / ${instance.definition}` }),
        element('td', { text: instance.client }),
        element('td', { text: String(instance.subscriptions.length) }),
        element('td', {}, [button, result])
      ])
    })
  )
  const select = document.getElementById('filter-instance')
  select.replaceChildren(element('option', { value: '', text: 'any' }))
  for (const instance of [
    ...instances.destinations,
    ...instances.sources.map((source) => ({ id: `source:${source.id}` }))
  ])
    select.append(element('option', { value: instance.id, text: instance.id }))
}

// ---- Dead letters -------------------------------------------------------------------------------------------------

function deadLetterFilter() {
  const filter = {}
  const instance = document.getElementById('filter-instance').value
  const action = document.getElementById('filter-action').value.trim()
  const reason = document.getElementById('filter-reason').value.trim()
  const since = document.getElementById('filter-since').value
  const until = document.getElementById('filter-until').value
  if (instance) filter.instance = instance
  if (action) filter.action = action
  if (reason) filter.reason = reason
  if (since) filter.since = new Date(since).toISOString()
  if (until) filter.until = new Date(until).toISOString()
  return filter
}

async function loadDeadLetters() {
  const query = new URLSearchParams({ limit: '200', ...deadLetterFilter() })
  const page = await api(`/v1/dead-letters?${query}`)
  const body = document.querySelector('#dead-letter-table tbody')
  document.getElementById('dead-letter-all').checked = false
  body.replaceChildren(
    ...page.deadLetters.map((letter) => {
      const open = element('button', { type: 'button', class: 'show-letter', text: 'Show' })
      open.addEventListener('click', () => showDeadLetter(letter))
      const replay = element('button', { type: 'button', class: 'replay-one', text: 'Replay' })
      replay.addEventListener('click', () => replayDeadLetters({ ids: [letter.id] }, 1))
      return element('tr', { 'data-id': letter.id, 'data-instance': letter.instance }, [
        element('td', {}, [element('input', { type: 'checkbox', class: 'select-letter', value: letter.id })]),
        element('td', { text: new Date(letter.at).toLocaleString() }),
        element('td', { text: letter.instance }),
        element('td', { text: letter.partnerAction }),
        element('td', { text: letter.status === undefined || letter.status === null ? '' : String(letter.status) }),
        element('td', { text: String(letter.attempts) }),
        element('td', { class: 'reason', text: letter.reason }),
        element('td', {}, [open, replay])
      ])
    })
  )
  document.getElementById('dead-letter-empty').hidden = page.deadLetters.length > 0
}

async function showDeadLetter(letter) {
  const detail = document.getElementById('dead-letter-detail')
  detail.replaceChildren(
    element('h3', { text: `${letter.instance} · ${letter.subscription} · ${letter.eventId}` }),
    element('p', { class: 'error', text: letter.reason }),
    element('h4', { text: 'Event' }),
    json(letter.event)
  )
  const query = new URLSearchParams({ eventId: letter.eventId, instance: letter.instance, limit: '20' })
  const { deliveries } = await api(`/v1/deliveries?${query}`)
  detail.append(
    element('h4', {
      text:
        deliveries.length > 0 ? 'Requests and the vendor’s answers' : 'No request of this event is recorded any more'
    }),
    ...deliveries.map(requestView)
  )
}

let replayWatch = null

async function replayDeadLetters(selection, expected) {
  const progress = document.getElementById('replay-progress')
  progress.textContent = `Replaying ${expected === undefined ? 'all matching' : expected}…`
  try {
    const report = await post('/v1/dead-letters/replay', selection)
    replayWatch = { replayed: report.replayed, notReplayable: report.notReplayable, since: Date.now() }
    renderReplayProgress()
    await loadDeadLetters()
  } catch (error) {
    progress.textContent = error.message
  }
}

/** Replay runs in the background: its progress is the backlog the live stats report. */
function renderReplayProgress() {
  if (!replayWatch) return
  const progress = document.getElementById('replay-progress')
  // Only stats taken after the replay say anything about it.
  const pending = latestStats && Date.parse(latestStats.at) > replayWatch.since ? latestStats.backlog : undefined
  const skipped = replayWatch.notReplayable > 0 ? `, ${replayWatch.notReplayable} not replayable` : ''
  if (pending === 0) {
    progress.textContent = `Replayed ${replayWatch.replayed}${skipped}: done`
    replayWatch = null
    void loadDeadLetters()
  } else
    progress.textContent = `Replayed ${replayWatch.replayed}${skipped}: ${pending === undefined ? '…' : pending} deliveries pending`
}

// ---- Live stats (server-sent events, paused while the tab is hidden) -----------------------------------------------

let stream = null

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

let shownRequests = -1

async function refreshDeliveries(total) {
  if (total === shownRequests) return
  shownRequests = total
  const { deliveries } = await api('/v1/deliveries?limit=20')
  document.querySelector('#deliveries tbody').replaceChildren(
    ...deliveries.map((record) => {
      const button = element('button', { type: 'button', class: 'copy-curl', text: 'Copy as cURL' })
      button.addEventListener('click', () => copyText(curlOf(record), button))
      return element('tr', {}, [
        ...[
          String(record.id),
          record.instance || '',
          `${record.method} ${record.url}`,
          record.response ? String(record.response.status ?? record.response.error) : '…'
        ].map((text) => element('td', { text })),
        element('td', {}, [button])
      ])
    })
  )
}

function renderStats(stats) {
  latestStats = stats
  renderChart(stats.series)
  const recent = stats.series.reduce(
    (sum, bucket) => ({
      events: sum.events + bucket.events,
      delivered: sum.delivered + bucket.delivered,
      errors: sum.errors + bucket.errors
    }),
    { events: 0, delivered: 0, errors: 0 }
  )
  const totals = [
    ['events (5 min)', recent.events],
    ['delivered (5 min)', recent.delivered],
    ['errors (5 min)', recent.errors],
    ['backlog', stats.backlog],
    ['oldest pending', stats.oldestPendingAgeSeconds === null ? '–' : `${stats.oldestPendingAgeSeconds} s`],
    ['dead letters', stats.deadLetters]
  ]
  document
    .getElementById('stats-totals')
    .replaceChildren(
      ...totals.flatMap(([label, value]) => [
        element('dt', { text: label }),
        element('dd', { 'data-stat': label.split(' ')[0], text: String(value) })
      ])
    )
  document.getElementById('stats-summary').textContent =
    `Last 5 minutes: ${recent.events} events, ${recent.errors} errors. ${stats.requests} requests recorded, ${stats.deadLetters} dead letters.`
  document.querySelector('#stats-instances tbody').replaceChildren(
    ...stats.instances.map((instance) =>
      element(
        'tr',
        { 'data-instance': instance.id },
        [instance.id, instance.delivered, instance.retries, instance.deadLettered, instance.deadLetters].map((value) =>
          element('td', { text: String(value) })
        )
      )
    )
  )
  const badge = document.getElementById('health')
  badge.textContent = `${stats.backlog} pending · ${stats.deadLetters} dead letters`
  badge.className = 'badge ok'
  renderReplayProgress()
  void refreshDeliveries(stats.requests)
}

/** One server-sent-events connection, read with fetch (EventSource cannot send the token). */
async function openStream() {
  if (stream) return
  const controller = new AbortController()
  stream = controller
  const status = document.getElementById('stats-connection')
  try {
    const response = await fetch('/v1/stats/stream', { headers: authorization(), signal: controller.signal })
    if (response.status === 401) {
      stream = null
      if (await askForToken('This runtime needs its token.')) return openStream()
      return
    }
    status.textContent = 'live'
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      buffer += value
      let end
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const message = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const data = message
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trim())
          .join('\n')
        if (data) renderStats(JSON.parse(data))
      }
    }
    status.textContent = 'disconnected'
  } catch (error) {
    status.textContent = controller.signal.aborted ? 'paused (tab hidden)' : `disconnected: ${error.message}`
  } finally {
    if (stream === controller) stream = null
  }
  // The server went away (a restart): try again while the page is visible.
  if (!controller.signal.aborted && document.visibilityState === 'visible') setTimeout(openStream, 2000)
}

function closeStream() {
  if (stream) stream.abort()
  stream = null
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') closeStream()
  else void openStream()
})

// ---- Catalog ------------------------------------------------------------------------------------------------------

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

// ---- Start --------------------------------------------------------------------------------------------------------

function showTab(name) {
  for (const button of document.querySelectorAll('nav button'))
    button.classList.toggle('active', button.dataset.tab === name)
  for (const section of document.querySelectorAll('.tab')) section.classList.toggle('active', section.id === name)
  if (name === 'dead-letters') void loadDeadLetters()
}

async function init() {
  catalog = await api('/v1/catalog')
  ;[consoleData, instances] = await Promise.all([api('/v1/console'), api('/v1/instances')])
  const select = document.getElementById('tester-destination')
  for (const { integration, destination } of destinations())
    select.append(element('option', { value: `${integration.slug}/${destination.key}`, text: destination.name }))
  select.addEventListener('change', renderSettingsForm)
  const samples = document.getElementById('tester-sample')
  const names = Object.keys(consoleData.samples)
  for (const name of names) samples.append(element('option', { value: name, text: name }))
  samples.addEventListener(
    'change',
    () => (document.getElementById('tester-event').value = JSON.stringify(consoleData.samples[samples.value], null, 2))
  )
  if (names[0]) document.getElementById('tester-event').value = JSON.stringify(consoleData.samples[names[0]], null, 2)
  document.getElementById('tester-form').addEventListener('submit', runTest)
  document.getElementById('tester-test-connection').addEventListener('click', testTesterConnection)
  document.getElementById('tester-reset-subscriptions').addEventListener('click', resetSubscriptions)
  document.getElementById('tester-copy-config').addEventListener('click', copyConfiguration)
  document.getElementById('dead-letter-filter').addEventListener('submit', (event) => {
    event.preventDefault()
    void loadDeadLetters()
  })
  document.getElementById('dead-letter-all').addEventListener('change', (event) => {
    for (const box of document.querySelectorAll('.select-letter')) box.checked = event.target.checked
  })
  document.getElementById('replay-selected').addEventListener('click', () => {
    const ids = [...document.querySelectorAll('.select-letter:checked')].map((box) => box.value)
    if (ids.length > 0) void replayDeadLetters({ ids }, ids.length)
  })
  document
    .getElementById('replay-filter')
    .addEventListener('click', () => void replayDeadLetters({ filter: deadLetterFilter() }, undefined))
  for (const button of document.querySelectorAll('nav button'))
    button.addEventListener('click', () => showTab(button.dataset.tab))
  renderSettingsForm()
  renderInstances()
  renderCatalog()
  if (document.visibilityState === 'visible') void openStream()
}

init().catch((error) => {
  document.body.prepend(element('p', { class: 'error', text: `The page could not load: ${error.message}` }))
})
