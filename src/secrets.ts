/** Token keys at rest: a keyed digest for lookup, a sealed copy for view_key; password hashing. */
import {
  createHmac,
  hkdfSync,
  randomBytes,
  scrypt as scryptCallback,
  timingSafeEqual,
} from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { CompactEncrypt, compactDecrypt } from 'jose'

const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number },
) => Promise<Buffer>

export interface Secrets {
  /** HMAC-SHA256 of a token key under the server secret: what the database stores and looks up. */
  digest(key: string): string
  /** Compares two digests in constant time. */
  digestsEqual(a: string, b: string): boolean
  /** Encrypts a token key (JWE, dir + A256GCM) so that view_key can show it again. */
  seal(key: string): Promise<string>
  unseal(sealed: string): Promise<string>
  /**
   * 16 hex digits derived from the secret (HKDF, its own label): what the database records
   * and error messages name, so an operator can tell secrets apart without showing one.
   */
  fingerprint: string
}

/** The server secret does not open this database's tokens; starting would lock everyone out. */
export class SecretMismatchError extends Error {
  override name = 'SecretMismatchError'
}

export function createSecrets(secretKey: string): Secrets {
  const ikm = Buffer.from(secretKey, 'utf8')
  const digestKey = Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), 'scimd token digest', 32))
  const sealKey = new Uint8Array(hkdfSync('sha256', ikm, Buffer.alloc(0), 'scimd token seal', 32))
  const fingerprint = Buffer.from(
    hkdfSync('sha256', ikm, Buffer.alloc(0), 'scimd secret fingerprint', 8),
  ).toString('hex')
  return {
    fingerprint,
    digest: (key) => createHmac('sha256', digestKey).update(key, 'utf8').digest('hex'),
    digestsEqual: (a, b) => {
      const x = Buffer.from(a, 'utf8')
      const y = Buffer.from(b, 'utf8')
      return x.length === y.length && timingSafeEqual(x, y)
    },
    seal: async (key) =>
      new CompactEncrypt(new TextEncoder().encode(key))
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
        .encrypt(sealKey),
    unseal: async (sealed) => {
      const { plaintext } = await compactDecrypt(sealed, sealKey)
      return new TextDecoder().decode(plaintext)
    },
  }
}

/** A new token key: 48 random bytes, base64url (64 characters). */
export function generateTokenKey(): string {
  return randomBytes(48).toString('base64url')
}

/**
 * The server secret: SCIMD_SECRET_KEY if set; else, with a file-backed SQLite database, one
 * generated into the data directory (mode 0600) on first start; else (in-memory) a random one.
 * `expected` is the fingerprint the database recorded: a database that has one was sealed
 * with a secret already, so a new one is never generated for it (it could open nothing).
 */
export function resolveSecretKey(opts: {
  secretKey: string | undefined
  dataDir: string
  persistent: boolean
  expected?: string | undefined
}): string {
  if (opts.secretKey) return opts.secretKey
  if (!opts.persistent) return randomBytes(32).toString('base64url')
  const file = join(opts.dataDir, 'secret.key')
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  if (opts.expected !== undefined) {
    throw new SecretMismatchError(
      `${file} is missing and SCIMD_SECRET_KEY is unset, but this database's tokens are sealed ` +
        `with the secret whose fingerprint is ${opts.expected}. Set SCIMD_SECRET_KEY to that ` +
        `secret (the one the database was created or imported with) or restore ${file}; a new ` +
        'secret would open none of its tokens.',
    )
  }
  mkdirSync(opts.dataDir, { recursive: true })
  const key = randomBytes(32).toString('base64url')
  writeFileSync(file, `${key}\n`, { mode: 0o600 })
  chmodSync(file, 0o600)
  return key
}

const SCRYPT = { N: 16384, r: 8, p: 1 }

/** Hashes a password with scrypt (RFC 7914) and a random salt; the result is self-describing. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const hash = await scrypt(password, salt, 32, SCRYPT)
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`
}
