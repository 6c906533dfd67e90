"""The billing cycle, pure: events priced, invoices drafted, estimates, year-end settlement.

Nothing here touches a database or a file; the store and the CLI feed it
records and persist what it returns.
"""
