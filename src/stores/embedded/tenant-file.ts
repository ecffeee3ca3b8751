import { existsSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Names a device on Windows in any case and with any extension (`con.sqlite` opens the console),
 * so a tenant of that name must not be a file stem as it is. COM0 and LPT0 are on Microsoft's list too.
 */
const windowsDeviceName = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/;

/** What precedes an uppercase letter in a file stem; tenant names never contain it. */
const uppercaseMark = '+';

/**
 * A tenant's file stem in `tenants/`, distinct for every tenant name on case-insensitive file
 * systems (macOS, Windows) too: an uppercase letter is written as `+` and the letter in lowercase
 * (`Acme` is `+acme`, `acme` stays `acme`), and a Windows device name gets a trailing `+`
 * (`con+`), which no other name's stem has. Lowercase names without a device name, the common
 * case, keep the stem they always had.
 */
export function tenantFileStem(tenant: string): string {
  const stem = tenant.replace(/[A-Z]/g, (letter) => `${uppercaseMark}${letter.toLowerCase()}`);
  return windowsDeviceName.test(stem) ? `${stem}${uppercaseMark}` : stem;
}

/** The tenant whose file stem this is: `tenantFileStem` undone. */
export function tenantOfFileStem(stem: string): string {
  const withoutDeviceMark = stem.endsWith(uppercaseMark) ? stem.slice(0, -1) : stem;
  return withoutDeviceMark.replace(/\+([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** SQLite's files of one database: the file itself and, in WAL mode, its log and shared memory. */
const sqliteFileSuffixes = ['', '-wal', '-shm'];

/**
 * The path of a tenant's file in `folder`, after moving the file an earlier ragql wrote under the
 * tenant's name itself (`Acme.sqlite`, `con.sqlite`) to its present name. The old file counts only
 * when its directory entry is spelled exactly so: on a case-insensitive file system `Acme.sqlite`
 * would otherwise find `acme.sqlite`, another tenant's.
 */
export function tenantFilePath(folder: string, tenant: string): string {
  const path = join(folder, `${tenantFileStem(tenant)}.sqlite`);
  const earlierName = `${tenant}.sqlite`;
  if (earlierName === `${tenantFileStem(tenant)}.sqlite` || existsSync(path) || !existsSync(folder))
    return path;
  const entries = new Set(readdirSync(folder));
  if (!entries.has(earlierName)) return path;
  for (const suffix of sqliteFileSuffixes) {
    if (entries.has(`${earlierName}${suffix}`))
      renameSync(join(folder, `${earlierName}${suffix}`), `${path}${suffix}`);
  }
  return path;
}
