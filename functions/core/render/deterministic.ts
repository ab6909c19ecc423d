/**
 * Same workbook in, same bytes out. exceljs stamps every zip entry with the time of writing and
 * docProps with `new Date()` unless told otherwise; we fix both to the workbook's own date.
 */
import type ExcelJS from 'exceljs';

/** Writes `wb` as .xlsx bytes that depend only on its content and `wb.modified` (or `wb.created`). */
/** The .xlsx content type, for every object and download we write. */
export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export async function writeWorkbookBuffer(wb: ExcelJS.Workbook): Promise<Buffer> {
  const date = wb.modified ?? wb.created;
  if (!date) throw new Error('writeWorkbookBuffer: set workbook.created/modified so the bytes are reproducible');
  wb.created ??= date;
  wb.modified ??= date;
  const bytes = Buffer.from(await wb.xlsx.writeBuffer());
  return setZipTimestamps(bytes, date);
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;

/**
 * Rewrites the DOS modification time of every entry, in the central directory and the local
 * headers, in place. The zip is the one JSZip writes for exceljs: no zip64, no extended timestamps.
 */
export function setZipTimestamps(zip: Buffer, date: Date): Buffer {
  const time = (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | Math.floor(date.getUTCSeconds() / 2);
  const day = ((date.getUTCFullYear() - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate();
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD_SIGNATURE) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('setZipTimestamps: no end of central directory');
  const entries = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < entries; n++) {
    if (zip.readUInt32LE(p) !== CENTRAL_SIGNATURE) throw new Error(`setZipTimestamps: bad central directory entry at ${p}`);
    zip.writeUInt16LE(time, p + 12);
    zip.writeUInt16LE(day, p + 14);
    const local = zip.readUInt32LE(p + 42);
    if (zip.readUInt32LE(local) !== LOCAL_SIGNATURE) throw new Error(`setZipTimestamps: bad local header at ${local}`);
    zip.writeUInt16LE(time, local + 10);
    zip.writeUInt16LE(day, local + 12);
    p += 46 + zip.readUInt16LE(p + 28) + zip.readUInt16LE(p + 30) + zip.readUInt16LE(p + 32);
  }
  return zip;
}
