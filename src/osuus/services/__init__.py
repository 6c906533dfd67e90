"""The use cases: what the command line and the web app do, each in one place.

One use case is one function, one transaction and at most one audit record; it
returns a value (never a row of the database) and refuses with every problem
(`ProblemsError`), never printing. The edges parse what a person asked, call one
use case, render its result and map its problems to an exit status or an HTTP
answer.

- `ledger`: the database, who acts, and the transaction of a use case
- `allocation`: an agreement file read, checked and allocated
- `agreements`: storing agreements, reading stored ones back, finding municipalities
- `imports`: events, counts and costs into the ledger, all or nothing
- `invoicing`: a period's invoice run, credit notes, the issued documents
- `closing`: a year's confirmed prices and settlements
- `estimates`: the August estimate
- `reports`: a member's annual report
- `explain`: why any billed figure is what it is
- `documents`: the ledger made into documents (invoices, letters, reports)
- `audit`: the change log and its verification
- `views`: the values use cases return
"""
