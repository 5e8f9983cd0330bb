/**
 * RFC 4180 CSV for every export (audit, monitor log, event report), that is safe to open in a spreadsheet: a cell that a spreadsheet would read as a
 * formula (starting with =, +, -, @, tab or CR) gets a leading apostrophe (OWASP's advice).
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function neutraliseCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

export function csvCell(value: unknown): string {
  const text = neutraliseCell(value === null || value === undefined ? '' : String(value));
  // `;` too: spreadsheets in semicolon locales split cells on it.
  return /[",;\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(values: unknown[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

/**
 * The first line of every CSV file: a UTF-8 byte order mark, without which Excel on Windows reads
 * the file as the ANSI code page and "Chloé" arrives as "ChloÃ©", then the header row.
 */
export const UTF8_BOM = '\uFEFF';
export function csvHeader(columns: unknown[]): string {
  return UTF8_BOM + csvRow(columns);
}
