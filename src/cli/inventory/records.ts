/**
 * Reading the inventory page by page with the store's cursor, and printing what was read. Only
 * one page (at most 1000 records) is held at a time, whatever the number of matches.
 */
import type { CertificateFilter, CertificateRecord, CertificateRepository } from '../../store/store.js';
import { pagesOf } from '../../store/pages.js';
import { certificateJson, csvColumns, tableColumns } from './view.js';
import { csvWriter, jsonArrayWriter, jsonLinesWriter, tableWriter, type ItemWriter, type TextSink } from './output.js';

/** The store's largest page. */
const PAGE = 1000;

/**
 * The records matching `filter`, in the store's order (issued at, then serial), at most `max`
 * (all when undefined). Pages are sized to what is still wanted, so `max = 101` reads one page
 * of 101; `pageSize` (1…1000) caps them.
 */
export async function* certificatesMatching(repo: CertificateRepository, filter: CertificateFilter, max?: number, pageSize = PAGE): AsyncGenerator<CertificateRecord> {
  for await (const page of pagesOf((p) => repo.list(filter, p), pageSize, max)) yield* page;
}

function before(a: CertificateRecord, b: CertificateRecord): boolean {
  const d = a.issuedAt.getTime() - b.issuedAt.getTime();
  return d < 0 || (d === 0 && a.serial < b.serial);
}

/**
 * Merges sources that are each in the store's order into one stream in that order, without
 * duplicates (the same certificate found by two sources comes once).
 */
export async function* mergeInStoreOrder(sources: readonly AsyncIterable<CertificateRecord>[]): AsyncGenerator<CertificateRecord> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  const heads = await Promise.all(iterators.map((it) => it.next()));
  let last: string | undefined;
  for (;;) {
    let pick = -1;
    heads.forEach((h, i) => {
      const current = pick < 0 ? undefined : heads[pick];
      if (h.done !== true && (current === undefined || current.done === true || before(h.value, current.value))) pick = i;
    });
    const head = heads[pick];
    const iterator = iterators[pick];
    if (head === undefined || head.done === true || iterator === undefined) return;
    if (head.value.serial !== last) yield head.value;
    last = head.value.serial;
    heads[pick] = await iterator.next();
  }
}

/** The formats a list of certificates can be written in. */
export type RecordFormat = 'table' | 'json' | 'jsonl' | 'csv';

/** A writer of certificate records in `format` at time `now`; `pem` adds the certificate to JSON. */
export function recordWriter(format: RecordFormat, sink: TextSink, now: Date, pem: boolean): ItemWriter<CertificateRecord> {
  switch (format) {
    case 'table':
      return tableWriter(sink, tableColumns(now));
    case 'csv':
      return csvWriter(sink, csvColumns(now));
    case 'json':
      return jsonArrayWriter(sink, (r: CertificateRecord) => certificateJson(r, now, pem));
    case 'jsonl':
      return jsonLinesWriter(sink, (r: CertificateRecord) => certificateJson(r, now, pem));
  }
}

/**
 * Writes `records` through `writer`, at most `limit` of them (all when undefined). Returns how
 * many were written and whether more were available: the source is read one record past the
 * limit to know.
 */
export async function writeRecords(records: AsyncIterable<CertificateRecord>, writer: ItemWriter<CertificateRecord>, limit?: number): Promise<{ count: number; more: boolean }> {
  let count = 0;
  let more = false;
  for await (const r of records) {
    if (limit !== undefined && count >= limit) {
      more = true;
      break;
    }
    await writer.write(r);
    count++;
  }
  await writer.end();
  return { count, more };
}
