"""The billing cycle, pure, one noun a module.

- `pricing`: the price of a service event; "member amount = Σ volume × price", once
- `lines`: invoice lines (advance, event, travel, interpretation), each explained
- `invoices`: a period's lines grouped into invoices; numbers, references, due dates
- `credit_notes`: an invoice credited whole; credits carried back into a closed year
- `settlement`: a closed year's confirmed prices, actual shares and settlements
- `estimate`: the August estimate of next year's costs
- `records`: what imports bring in (events, counts, costs)
- `kinds`: the closed sets of line, document and settlement kinds

Nothing here touches a database or a file, nor holds a word: the services feed
it values and keep what it returns; the renderers put it into words.
"""
