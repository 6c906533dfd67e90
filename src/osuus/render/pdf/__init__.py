"""PDF documents: invoices, credit notes, estimate letters, annual reports, appendix tables."""
