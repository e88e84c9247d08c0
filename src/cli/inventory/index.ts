import type { Command } from 'commander';
import { registerInventoryList } from './list.js';
import { registerInventoryShow } from './show.js';
import { registerInventorySearch } from './search.js';
import { registerInventoryExport } from './export.js';

export { withStore, type StoreFiles } from './store-access.js';
export { buildFilter, parseFingerprintText, parseLimit, parseSerialText, INVENTORY_STATUSES, type FilterFlags, type InventoryStatus } from './flags.js';
export { certificateJson, inventoryStatus, type CertificateJson } from './view.js';
export { csvCell, type Column } from './output.js';
export { searchReadings, type SearchReading } from './search.js';

/** Registers `signet inventory …`: list, show, search, export. */
export function registerInventoryCommands(program: Command): Command {
  const cmd = program.command('inventory').description('query the certificates the CA issued: list, show, search, export');
  registerInventoryList(cmd);
  registerInventoryShow(cmd);
  registerInventorySearch(cmd);
  registerInventoryExport(cmd);
  cmd.addHelpText(
    'after',
    `
Every command reads the CA's database (named by --config, default .signet/ca/signet.json) and
never writes it; it works while "signet ca start" serves the same database.

Examples:
  $ signet inventory list --expiring-within 7d
  $ signet inventory show 4a1f03c2d5e6f708192a3b4c5d6e7f80
  $ signet inventory search '*.example.com'
  $ signet inventory export --out inventory.jsonl`,
  );
  return cmd;
}
