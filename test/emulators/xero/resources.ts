/** Xero Accounting API resources as the API returns them, and the inputs that seed them. */

export interface XeroTenant {
  tenantId: string;
  tenantName: string;
  tenantType: 'ORGANISATION';
  createdDateUtc: string;
}

export interface XeroContactRef {
  ContactID: string;
  Name: string;
}

export interface XeroLineItem {
  LineItemID: string;
  Description: string;
  Quantity: number;
  UnitAmount: number;
  AccountCode: string;
  TaxType: string;
  TaxAmount: number;
  LineAmount: number;
}

export type XeroLineItemInput = Partial<XeroLineItem>;
export type XeroInvoiceStatus = 'DRAFT' | 'SUBMITTED' | 'AUTHORISED' | 'PAID' | 'VOIDED' | 'DELETED';

export interface XeroInvoice {
  Type: 'ACCREC' | 'ACCPAY';
  InvoiceID: string;
  InvoiceNumber: string;
  Reference: string;
  Status: XeroInvoiceStatus;
  LineAmountTypes: 'Exclusive';
  Contact: XeroContactRef;
  Date: string;
  DateString: string;
  DueDate: string;
  DueDateString: string;
  LineItems: XeroLineItem[];
  SubTotal: number;
  TotalTax: number;
  Total: number;
  AmountDue: number;
  AmountPaid: number;
  AmountCredited: number;
  CurrencyCode: string;
  CurrencyRate: number;
  HasAttachments: boolean;
  UpdatedDateUTC: string;
}

export interface XeroInvoiceInput {
  InvoiceID?: string;
  InvoiceNumber?: string;
  Type?: XeroInvoice['Type'];
  Reference?: string;
  Status?: XeroInvoiceStatus;
  Contact?: Partial<XeroContactRef>;
  /** Calendar dates as `YYYY-MM-DD`. */
  Date?: string;
  DueDate?: string;
  LineItems?: XeroLineItemInput[];
  /** Without `LineItems`, becomes a single untaxed line of this amount. */
  Total?: number;
  AmountPaid?: number;
  AmountCredited?: number;
  CurrencyCode?: string;
}

export interface XeroContact {
  ContactID: string;
  ContactNumber: string;
  ContactStatus: 'ACTIVE' | 'ARCHIVED';
  Name: string;
  FirstName: string;
  LastName: string;
  EmailAddress: string;
  IsSupplier: boolean;
  IsCustomer: boolean;
  DefaultCurrency: string;
  Addresses: { AddressType: 'POBOX' | 'STREET'; City?: string; Country?: string }[];
  Phones: { PhoneType: 'DEFAULT' | 'MOBILE'; PhoneNumber?: string }[];
  HasAttachments: boolean;
  UpdatedDateUTC: string;
}

export type XeroContactInput = Partial<Omit<XeroContact, 'UpdatedDateUTC'>>;

export interface XeroCreditNote {
  Type: 'ACCRECCREDIT' | 'ACCPAYCREDIT';
  CreditNoteID: string;
  CreditNoteNumber: string;
  Reference: string;
  Status: 'DRAFT' | 'SUBMITTED' | 'AUTHORISED' | 'PAID' | 'VOIDED' | 'DELETED';
  LineAmountTypes: 'Exclusive';
  Contact: XeroContactRef;
  Date: string;
  DateString: string;
  LineItems: XeroLineItem[];
  SubTotal: number;
  TotalTax: number;
  Total: number;
  RemainingCredit: number;
  CurrencyCode: string;
  CurrencyRate: number;
  HasAttachments: boolean;
  UpdatedDateUTC: string;
}

export interface XeroCreditNoteInput {
  CreditNoteID?: string;
  CreditNoteNumber?: string;
  Type?: XeroCreditNote['Type'];
  Reference?: string;
  Status?: XeroCreditNote['Status'];
  Contact?: Partial<XeroContactRef>;
  Date?: string;
  LineItems?: XeroLineItemInput[];
  Total?: number;
  RemainingCredit?: number;
  CurrencyCode?: string;
}
