/** QuickBooks Online entities as the API returns them, and the inputs that seed them. */

/** The entities the emulator models (reads, queries, batch and CDC). */
export type QuickBooksEntityName = 'Invoice' | 'Customer';

export interface QboRef {
  value: string;
  name?: string;
}

export interface QboMetaData {
  CreateTime: string;
  LastUpdatedTime: string;
}

export interface QboInvoiceLine {
  Id?: string;
  LineNum?: number;
  Description?: string;
  Amount: number;
  DetailType: 'SalesItemLineDetail' | 'SubTotalLineDetail';
  SalesItemLineDetail?: { ItemRef: QboRef; Qty: number; UnitPrice: number; TaxCodeRef: QboRef };
  SubTotalLineDetail?: Record<string, never>;
}

export interface QboInvoice {
  Id: string;
  SyncToken: string;
  domain: 'QBO';
  sparse: false;
  MetaData: QboMetaData;
  DocNumber: string;
  TxnDate: string;
  DueDate: string;
  CurrencyRef: QboRef;
  CustomerRef: QboRef;
  Line: QboInvoiceLine[];
  TxnTaxDetail: { TotalTax: number };
  TotalAmt: number;
  Balance: number;
  EmailStatus: 'NotSet' | 'NeedToSend' | 'EmailSent';
  PrivateNote: string;
}

/** A simple line (`Description`, `Qty`, `UnitPrice` or `Amount`) or a full QuickBooks line. */
export interface QboLineInput {
  Description?: string;
  Amount?: number;
  Qty?: number;
  UnitPrice?: number;
  ItemRef?: QboRef;
  DetailType?: string;
  SalesItemLineDetail?: { ItemRef?: QboRef; Qty?: number; UnitPrice?: number };
}

export interface QboInvoiceInput {
  Id?: string;
  DocNumber?: string;
  TxnDate?: string;
  DueDate?: string;
  CustomerRef?: Partial<QboRef>;
  Line?: QboLineInput[];
  /** Without `Line`, becomes a single line of this amount. */
  TotalAmt?: number;
  Balance?: number;
  CurrencyRef?: QboRef;
  EmailStatus?: QboInvoice['EmailStatus'];
  PrivateNote?: string;
}

export interface QboCustomer {
  Id: string;
  SyncToken: string;
  domain: 'QBO';
  sparse: false;
  MetaData: QboMetaData;
  DisplayName: string;
  GivenName: string;
  FamilyName: string;
  CompanyName: string;
  PrimaryEmailAddr?: { Address: string };
  Balance: number;
  Active: boolean;
  CurrencyRef: QboRef;
}

export type QboCustomerInput = Partial<Omit<QboCustomer, 'SyncToken' | 'domain' | 'sparse' | 'MetaData'>>;
