"""Documents that leave the house: invoices, credit notes, estimate letters, annual reports."""
