"""The web app: osuus in a browser for the host's finance team and the member municipalities.

Server-rendered pages (Jinja2) on the same ASGI app as the REST API, in Finnish, Swedish and
English from the message catalogue. Every page works without JavaScript; htmx (vendored under
static/vendor) only spares a reload. The pages call the same use cases as the API and the
command line (osuus.services) and check, on every route, who asks, in which area, and — for a
member — for which municipality (osuus.web.context).

- `app`: the ASGI app: the API under /api/v1 and the pages beside it
- `context`: the page's reader, area, language, CSRF token, and the guards of every route
- `security`: security headers and the Content-Security-Policy
- `pages`: one router per part of the app (sign-in, the year, the agreement, imports, runs, …)
- `templates`, `static`: the HTML and the one style sheet
"""
