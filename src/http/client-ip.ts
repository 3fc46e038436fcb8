/** The client address of a request: the socket's peer, or what trusted proxies say it is. */
import { BlockList, isIP } from 'node:net'
import type { Context } from 'hono'
import type { AppEnv } from './env.js'

/** Which peers are trusted proxies (SCIMD_TRUSTED_PROXIES), built once per app. */
export function trustedProxies(entries: readonly string[]): BlockList | undefined {
  if (entries.length === 0) return undefined
  const list = new BlockList()
  for (const entry of entries) {
    const [address, bits] = entry.split('/') as [string, string | undefined]
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4'
    if (bits === undefined) list.addAddress(address, type)
    else list.addSubnet(address, Number(bits), type)
  }
  return list
}

/** An IPv4 address as IPv4 when the socket reports it IPv4-mapped (`::ffff:1.2.3.4`). */
function plain(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address
}

function isTrusted(list: BlockList, address: string): boolean {
  return list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4')
}

/**
 * The client's address. The socket's peer, unless that peer is a trusted proxy: then the
 * X-Forwarded-For entries are read from the right (the nearest hop first), skipping trusted
 * proxies, and the first other one is the client. A client can write anything at the left
 * of that header, so only entries appended by trusted proxies are believed; an entry that is
 * not an address ends the walk at the last trusted hop. Null when unknown (a request made
 * in-process, as tests do).
 */
export function clientIp(c: Context<AppEnv>, trusted: BlockList | undefined): string | null {
  const remote = c.env?.incoming?.socket?.remoteAddress
  if (!remote) return null
  const peer = plain(remote)
  if (!trusted || !isTrusted(trusted, peer)) return peer
  const forwarded = c.req.header('x-forwarded-for')
  if (!forwarded) return peer
  const hops = forwarded.split(',')
  let nearest = peer
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = plain((hops[i] as string).trim())
    if (isIP(hop) === 0) return nearest
    if (!isTrusted(trusted, hop)) return hop
    nearest = hop
  }
  return nearest
}
