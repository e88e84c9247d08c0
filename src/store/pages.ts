/**
 * Walking the inventory a page at a time with the store's cursor (keyset on issuedAt, serial):
 * the shared loop of the inventory commands and of bulk revocation. Only one page is held at a time.
 */
import type { Page, PageRequest } from './store.js';

/**
 * What `list` returns for `page` (a repository's `list` or `listStates` with its filter bound), in
 * the store's order (issued at, then serial), a page at a time: pages of at most `pageSize`
 * (1…1000), sized to what is still wanted when `max` is given.
 */
export async function* pagesOf<T>(list: (page: PageRequest) => Promise<Page<T>>, pageSize: number, max = Number.POSITIVE_INFINITY): AsyncGenerator<readonly T[]> {
  let cursor: string | undefined;
  let left = max;
  while (left > 0) {
    const page = await list({ limit: Math.min(pageSize, left), ...(cursor !== undefined && { cursor }) });
    if (page.items.length > 0) yield page.items;
    left -= page.items.length;
    if (page.nextCursor === undefined || page.items.length === 0) return;
    cursor = page.nextCursor;
  }
}
