"""HTML for the consent screen and the Xero-side web UI (plain forms, no external assets).

The UI shows a page of each list at a time, and every form carries the CSRF token.
"""

import hmac
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from xero_sandbox.web import LoggedRequest, Request, Response, escape

STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1e2a35}
header{background:#13b5ea;color:#fff;padding:.8rem 1.5rem}
header h1{margin:0;font-size:1.2rem} main{padding:1rem 1.5rem;max-width:1200px}
section{background:#fff;border-radius:6px;padding:1rem;margin-bottom:1rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e3e8ec}
form.inline{display:inline} button{cursor:pointer;margin:0 .1rem}
.status-ARCHIVED{color:#a05a00}.status-GDPRREQUEST{color:#b00020}
.muted{color:#6b7b88;font-size:.85rem}
"""


def layout(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}"
        f"</title><style>{STYLE}</style></head><body><header><h1>{escape(title)}</h1></header>"
        f"<main>{body}</main></body></html>"
    )


def forged_form(req: Request, token: str) -> Response | None:
    """The 403 page for a form POST without this process's token, else None."""
    sent = {k: v[-1] for k, v in req.form().items()}.get("csrf", "")
    if hmac.compare_digest(sent.encode(), token.encode()):
        return None
    message = "This form is out of date or came from another site: reload the page."
    return Response.html(error_page(message), status=403)


def error_page(message: str) -> str:
    return layout("Xero sandbox: sign-in error", f"<section><p>{escape(message)}</p></section>")


def consent_page(
    client: dict, query: dict[str, str], orgs: list[tuple[str, str]], token: str
) -> str:
    """Login and consent in one screen: pick organisations, then Allow or Deny."""
    hidden = "".join(
        f"<input type='hidden' name='{escape(name)}' value='{escape(query.get(name.lower(), ''))}'>"
        for name in (
            "client_id",
            "redirect_uri",
            "response_type",
            "scope",
            "state",
            "code_challenge",
            "code_challenge_method",
        )
    )
    boxes = "".join(
        f"<p><label><input type='checkbox' name='tenant' value='{escape(tid)}'"
        f"{' checked' if i == 0 else ''}> {escape(name)}</label></p>"
        for i, (tid, name) in enumerate(orgs)
    )
    scopes = "".join(f"<li>{escape(s)}</li>" for s in query.get("scope", "").split())
    body = f"""
<section>
  <p>Signed in as <strong>demo.user@example.co.nz</strong> (sandbox demo user).</p>
  <p><strong>{escape(client["name"])}</strong> wants to access your Xero data:</p>
  <ul>{scopes}</ul>
  <form method="post" action="/identity/connect/authorize">
    {hidden}{_csrf(token)}
    <fieldset><legend>Organisations to connect</legend>{boxes}</fieldset>
    <p><button type="submit" name="decision" value="allow">Allow access</button>
       <button type="submit" name="decision" value="deny">Deny</button></p>
  </form>
</section>"""
    return layout(f"Xero sandbox: connect to {client['name']}", body)


@dataclass
class OrgView:
    """One organisation as the UI shows it: which page of its lists, how many a page."""

    tenant_id: str
    org: dict
    page: int
    size: int

    def window(self, rows: list) -> list:
        return rows[(self.page - 1) * self.size : self.page * self.size]

    def pages(self, count: int) -> int:
        return max(1, math.ceil(count / self.size))


def _csrf(token: str) -> str:
    return f"<input type='hidden' name='csrf' value='{escape(token)}'>"


def _button(action: str, label: str, token: str) -> str:
    return (
        f"<form class='inline' method='post' action='{action}'>{_csrf(token)}"
        f"<button>{label}</button></form>"
    )


def _contact_actions(contact: dict[str, Any], token: str, choices: str) -> str:
    cid = escape(contact["ContactID"])
    forms = []
    if contact["ContactStatus"] == "ACTIVE":
        forms.append(_button(f"/ui/contacts/{cid}/archive", "Archive", token))
        # One text box naming the survivor (a list of this page's contacts helps pick one):
        # never a select of every contact on every row.
        forms.append(
            f"<form class='inline' method='post' action='/ui/contacts/{cid}/merge'>"
            f"{_csrf(token)}<input name='into' list='{choices}' size='18' "
            f"placeholder='name or ContactID' aria-label='Merge into'>"
            f"<button>Merge into</button></form>"
        )
        forms.append(_button(f"/ui/contacts/{cid}/gdpr", "GDPR request", token))
    elif contact["ContactStatus"] == "ARCHIVED":
        forms.append(_button(f"/ui/contacts/{cid}/restore", "Restore", token))
    return "".join(forms)


def home_page(sections: list[str], message: str, token: str) -> str:
    """The Xero side: each organisation's contacts (with actions) and arrived documents."""
    parts = []
    if message:
        parts.append(f"<section><strong>{escape(message)}</strong></section>")
    parts.append(
        "<section><form method='post' action='/ui/reset' "
        "onsubmit=\"return confirm('Reset the sandbox to its demo organisations?')\">"
        f"{_csrf(token)}<button>Reset sandbox</button></form> <span class='muted'>Control API: "
        "<a href='/_sandbox/state'>/_sandbox/state</a> · <a href='/ui/requests'>Requests log</a>"
        "</span></section>"
    )
    return layout("Xero sandbox", "".join(parts + sections))


def _pager(page: int, last: int, url: str, **query: str) -> str:
    """Previous/next links for a list that needs more than one page."""
    if last == 1:
        return ""

    def link(number: int, label: str) -> str:
        return f"<a href='{url}?{escape(urlencode({**query, 'page': number}))}'>{label}</a>"

    back = link(page - 1, "&lt; Previous") if page > 1 else ""
    forward = link(page + 1, "Next &gt;") if page < last else ""
    return f"<p class='muted'>Page {page} of {last} {back} {forward}</p>"


def requests_page(entries: list[LoggedRequest], page: int, last: int, total: int) -> str:
    """The Xero-facing requests the sandbox answered, newest first."""
    rows = "".join(
        f"<tr><td>{escape(datetime.fromtimestamp(e.at, UTC).strftime('%H:%M:%S'))}</td>"
        f"<td>{escape(e.method)}</td><td>{escape(e.path)}</td>"
        f"<td>{e.status or 'dropped'}</td><td>{e.milliseconds:.0f} ms</td></tr>"
        for e in entries
    )
    body = (
        f"<section><p><a href='/'>Back to the organisations</a></p>"
        f"<h2>Requests ({total}, newest first)</h2>{_pager(page, last, '/ui/requests')}"
        "<table><tr><th>UTC</th><th>Method</th><th>Path</th><th>Status</th><th>Took</th></tr>"
        f"{rows}</table></section>"
    )
    return layout("Xero sandbox: requests", body)


def org_section(view: OrgView, token: str) -> str:
    org = view.org
    contacts = sorted(org["contacts"].values(), key=lambda c: c["Name"].casefold())
    shown = view.window(contacts)
    choices = f"survivors-{escape(view.tenant_id)}"
    options = "".join(
        f"<option value='{escape(c['Name'])}'>" for c in shown if c["ContactStatus"] == "ACTIVE"
    )
    rows = "".join(
        f"<tr><td>{escape(c['Name'])}</td><td>{escape(c.get('ContactNumber'))}</td>"
        f"<td>{escape(c.get('EmailAddress'))}</td>"
        f"<td class='status-{escape(c['ContactStatus'])}'>{escape(c['ContactStatus'])}"
        + (
            f" → {escape(org['contacts'].get(c['MergedToContactID'], {}).get('Name'))}"
            if c.get("MergedToContactID")
            else ""
        )
        + f"</td><td>{_contact_actions(c, token, choices)}</td></tr>"
        for c in shown
    )
    docs = "".join(
        _documents(view, label, org[key], number, token)
        for label, key, number in (
            ("Invoices and bills", "invoices", "InvoiceNumber"),
            ("Credit notes", "credit_notes", "CreditNoteNumber"),
            ("Purchase orders", "purchase_orders", "PurchaseOrderNumber"),
        )
    )
    name = escape(org["organisation"]["Name"])
    most = max(
        [len(contacts)] + [len(org[t]) for t in ("invoices", "credit_notes", "purchase_orders")]
    )
    return (
        f"<section><h2>{name}</h2><p class='muted'>Tenant {escape(view.tenant_id)} · "
        f"day limit {org['day_limit']}</p>"
        f"{_pager(view.page, view.pages(most), '/', org=view.tenant_id)}"
        f"<h3>Contacts ({len(contacts)})</h3><datalist id='{choices}'>{options}</datalist>"
        f"<table><tr><th>Name</th><th>Number</th><th>Email</th><th>Status</th><th></th></tr>"
        f"{rows}</table>{docs}</section>"
    )


def _documents(view: OrgView, label: str, table: dict, number_field: str, token: str) -> str:
    if not table:
        return f"<h3>{label}</h3><p class='muted'>None arrived yet.</p>"
    contacts = view.org["contacts"]
    newest_first = list(reversed(table.values()))
    rows = "".join(
        f"<tr><td>{escape(d.get('Type', 'PO'))}</td><td>{escape(d.get(number_field))}</td>"
        f"<td>{escape(contacts.get(d['ContactID'], {}).get('Name'))}</td>"
        f"<td>{escape(d['Date'])}</td><td>{escape(d['Status'])}</td><td>{escape(d['Total'])}</td>"
        f"<td>{_pay_button(d, token)}</td></tr>"
        for d in view.window(newest_first)
    )
    return (
        f"<h3>{label} ({len(table)})</h3><table><tr><th>Type</th><th>Number</th>"
        f"<th>Contact</th><th>Date</th><th>Status</th><th>Total</th><th></th></tr>"
        f"{rows}</table>"
    )


def _pay_button(document: dict[str, Any], token: str) -> str:
    """Pay in full, on an approved invoice or bill (what Xero takes a payment on)."""
    if "InvoiceID" not in document or document.get("Status") != "AUTHORISED":
        return ""
    return _button(f"/ui/invoices/{escape(document['InvoiceID'])}/pay", "Pay in full", token)
