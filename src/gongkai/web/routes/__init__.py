"""The web app's routes, one router per area."""

from gongkai.web.routes import accounts, api, audit, corpus, draft, reports, review

ROUTERS = (accounts.router, reports.router, review.router, audit.router, corpus.router, draft.router, api.router)
