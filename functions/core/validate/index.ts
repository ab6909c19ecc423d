/**
 * The validator: bytes in, one report out, never a throw for bad input.
 * Stages run in order, each only where the earlier passed: file → structure → cells → rules → history.
 */
import type { Report } from '../report.ts';

export interface ValidateOptions {
  /** the institution the file was uploaded for (from the S3 key or --institution); the file must match */
  institution?: string;
  /** YYYY-MM the file was uploaded for */
  period?: string;
  /** template id the file was uploaded for */
  template?: string;
  /** "now", to refuse periods that have not ended; defaults to the clock */
  now?: Date;
}

export interface ValidationResult {
  report: Report;
}

export async function validateUpload(_bytes: Uint8Array, _options: ValidateOptions = {}): Promise<ValidationResult> {
  throw new Error('not built yet');
}
