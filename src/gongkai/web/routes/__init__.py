"""The web app's routes, one router per area."""

from gongkai.web.routes import api, corpus, draft, login, reports

ROUTERS = (login.router, reports.router, corpus.router, draft.router, api.router)
