/**
 * The normalised shape of an accepted submission: what is stored and what consolidation reads.
 * Derived from the template definition: values keyed by data element code, ledger rows by column key.
 */
export interface SubmissionIdentity {
  template: { id: string; version: number };
  county: string;
  institution: string;
  /** YYYY-MM */
  period: string;
}

export interface Reporter {
  name: string | null;
  phone: string | null;
  date: string | null;
}

export interface IndicatorSubmission extends SubmissionIdentity {
  kind: 'indicator';
  /** element code → value; an element left empty (optional) is absent, never 0 */
  values: Record<string, number>;
  remarks: Record<string, string>;
  reporter: Reporter;
}

export interface LedgerRow {
  /** row number in the uploaded sheet */
  row: number;
  taskNo: string;
  content: string;
  owner: string;
  /** YYYY-MM-DD */
  deadline: string;
  status: string;
  progress: number;
  measures: string | null;
  remark: string | null;
}

export interface LedgerSubmission extends SubmissionIdentity {
  kind: 'ledger';
  rows: LedgerRow[];
  reporter: Reporter;
}

export type Submission = IndicatorSubmission | LedgerSubmission;
