/**
 * Anti-replay nonces (RFC 8555 §6.5) that any replica can check: a nonce is its expiry, random
 * octets and an HMAC over both under a key every replica reads from the store, so issuing one
 * writes nothing; using one inserts it into the used-token table, whose primary key lets exactly
 * one request use it (on any replica) and whose periodic purge forgets it once it has expired.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Store } from '../store/store.js';

/** How long a nonce may be used after it was issued. */
export const NONCE_LIFETIME_MS = 30 * 60_000;
/** The used-token namespace of nonces (no provisioner name starts with `#`). */
const NONCE_NAMESPACE = '#acme-nonce';
/** The shared setting that holds the HMAC key. */
const KEY_SETTING = 'acme.nonce-key';

const EXPIRY = 6; // octets of epoch milliseconds (until the year 10889)
const RANDOM = 12;
const MAC = 16;
const LENGTH = EXPIRY + RANDOM + MAC;

/** Issues and consumes nonces for every ACME provisioner of one CA. */
export class NonceService {
  readonly #key: Buffer;
  readonly #store: Store;
  readonly #clock: Clock;
  #pool = Buffer.alloc(0);
  #at = 0;

  private constructor(key: Buffer, store: Store, clock: Clock) {
    this.#key = key;
    this.#store = store;
    this.#clock = clock;
  }

  /** Reads (or, first of all replicas, creates) the shared key. */
  static async open(store: Store, clock: Clock): Promise<NonceService> {
    const value = await store.acme.setting(KEY_SETTING, randomBytes(32).toString('base64url'));
    return new NonceService(Buffer.from(value, 'base64url'), store, clock);
  }

  #mac(body: Buffer): Buffer {
    return createHmac('sha256', this.#key).update(body).digest().subarray(0, MAC);
  }

  /** A fresh nonce (base64url, 46 characters). */
  issue(): string {
    if (this.#at + RANDOM > this.#pool.length) {
      this.#pool = randomBytes(RANDOM * 256);
      this.#at = 0;
    }
    const body = Buffer.alloc(EXPIRY + RANDOM);
    body.writeUIntBE(this.#clock.now().getTime() + NONCE_LIFETIME_MS, 0, EXPIRY);
    this.#pool.copy(body, EXPIRY, this.#at, this.#at + RANDOM);
    this.#at += RANDOM;
    return Buffer.concat([body, this.#mac(body)]).toString('base64url');
  }

  /** True exactly once for a nonce this CA issued that has not expired. */
  async consume(nonce: string): Promise<boolean> {
    if (typeof nonce !== 'string' || nonce.length !== Math.ceil((LENGTH * 4) / 3) || !/^[A-Za-z0-9_-]+$/.test(nonce)) return false;
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== LENGTH) return false;
    const body = raw.subarray(0, EXPIRY + RANDOM);
    if (!timingSafeEqual(raw.subarray(EXPIRY + RANDOM), this.#mac(body))) return false;
    const expires = raw.readUIntBE(0, EXPIRY);
    if (expires <= this.#clock.now().getTime()) return false;
    return this.#store.tokens.consume({ provisioner: NONCE_NAMESPACE, jti: nonce, expiresAt: new Date(expires) });
  }
}
