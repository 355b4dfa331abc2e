import { isIP } from 'node:net'
import type { MiddlewareHandler } from 'hono'
import { bearerAuth } from 'hono/bearer-auth'
import { HttpError } from './errors'

/** The names the API answers to when nothing else is configured: a browser on this machine, by any loopback name. */
export const DEFAULT_ALLOWED_HOSTS: readonly string[] = ['127.0.0.1', 'localhost', '[::1]']

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || (isIP(host) === 4 && host.startsWith('127.'))
}

/** Beyond loopback, the API must not be open to anyone who can reach the port. */
export function assertListenable(host: string, token: string | undefined): void {
  if (!isLoopback(host) && !token)
    throw new Error(`Refusing to listen on ${host} without a token: set OPEN_ACTIONS_TOKEN, or bind to 127.0.0.1`)
}

/** `Host` without its port, lower-cased; IPv6 literals keep their brackets (`[::1]`). */
export function hostName(header: string | undefined): string | undefined {
  if (!header) return undefined
  const trimmed = header.trim().toLowerCase()
  if (trimmed.startsWith('[')) {
    const end = trimmed.indexOf(']')
    return end > 0 ? trimmed.slice(0, end + 1) : undefined
  }
  return trimmed.replace(/:\d*$/, '')
}

/**
 * The names the API answers to: the defaults, the address it listens on (when it is one name or address, not a
 * wildcard) and whatever the operator adds. Anything else in `Host` is another site's name pointing here (DNS rebinding).
 */
export function allowedHostsFor(listenHost: string, extra: readonly string[] = []): Set<string> {
  const names = new Set([...DEFAULT_ALLOWED_HOSTS, ...extra.map((name) => hostName(name) ?? name)])
  const wildcard = listenHost === '0.0.0.0' || listenHost === '::' || listenHost === '[::]'
  if (!wildcard) names.add(isIP(listenHost) === 6 ? `[${listenHost.toLowerCase()}]` : listenHost.toLowerCase())
  return names
}

/** 421 unless `Host` names this server. */
export function hostCheck(allowed: ReadonlySet<string>): MiddlewareHandler {
  return async (c, next) => {
    const name = hostName(c.req.header('host'))
    if (!name || !allowed.has(name))
      throw new HttpError(
        421,
        `this server does not answer for the host "${name ?? ''}" (it answers for: ${[...allowed].join(', ')}; add names with server.allowedHosts)`
      )
    await next()
  }
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Same-origin only for requests that change something: a browser names the page that sent a request in `Origin` (and
 * `Sec-Fetch-Site`); one from another site is refused, whatever it sends. Clients that are not browsers send neither.
 */
export function sameOriginCheck(): MiddlewareHandler {
  return async (c, next) => {
    if (STATE_CHANGING.has(c.req.method)) {
      const site = c.req.header('sec-fetch-site')
      if (site !== undefined && site !== 'same-origin' && site !== 'none')
        throw new HttpError(403, `cross-site requests are refused here (Sec-Fetch-Site: ${site})`)
      const origin = c.req.header('origin')
      if (origin !== undefined) {
        let originHost: string | undefined
        try {
          originHost = new URL(origin).host.toLowerCase()
        } catch {
          originHost = undefined
        }
        if (originHost !== (c.req.header('host') ?? '').toLowerCase())
          throw new HttpError(403, `requests from another origin are refused here (Origin: ${origin.slice(0, 100)})`)
      }
    }
    await next()
  }
}

/** `Authorization: Bearer <token>`, compared in constant time (hono's bearer auth hashes both sides first). */
export function tokenCheck(tokens: readonly string[]): MiddlewareHandler {
  const message = { error: 'send Authorization: Bearer <token>' }
  return bearerAuth({
    token: [...tokens],
    noAuthenticationHeader: { message },
    invalidAuthenticationHeader: { message },
    invalidToken: { message: { error: 'the token is not valid' } }
  })
}
