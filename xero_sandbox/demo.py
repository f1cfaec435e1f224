"""What a sandbox starts with beyond its demo organisations: the apps and contacts it is given.

The apps come from the command line (`--client-id`, `--client-secret`, `--client-name`,
`--redirect-uri`) and from a seed file (`--seed FILE`); the contacts from the seed file
only. The sandbox itself knows no app: a seed file is JSON like

    {"clients": [{"client_id": "…", "client_secret": "…", "name": "…",
                  "redirect_uris": ["http://…/callback"]}],
     "contacts": {"<tenantId>": [{"Name": "…", "EmailAddress": "…"},
                                 {"Name": "…", "ContactStatus": "ARCHIVED"},
                                 {"Name": "…", "MergedInto": "<Name of another>"}]}}

Contacts go into an organisation only while it has none: at start and after every reset.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xero_sandbox import contacts, store

CLIENT_FIELDS = {"client_id", "client_secret", "name", "redirect_uris", "scopes"}


class SeedError(ValueError):
    """A seed file the sandbox cannot use (the message names the file and the problem)."""


@dataclass
class Seed:
    clients: list[dict[str, Any]] = field(default_factory=list)
    contacts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def prepare(self, state: dict, now: float) -> None:
        """Register the apps (keeping redirect URIs added since) and seed empty organisations."""
        for client in self.clients:
            known = state["clients"].get(client["client_id"], {})
            uris = list(client.get("redirect_uris", []))
            uris += [u for u in known.get("redirect_uris", []) if u not in uris]
            store.add_client(
                state,
                client["client_id"],
                client.get("client_secret", store.DEFAULT_CLIENT_SECRET),
                name=client.get("name", ""),
                scopes=client.get("scopes"),
                redirect_uris=uris,
            )
        for tenant_id, bodies in self.contacts.items():
            org = state["orgs"].get(tenant_id)
            if org is not None and not org["contacts"]:
                seed_contacts(org, bodies, now)


def seed_contacts(org: dict, bodies: list[dict], now: float) -> int:
    """Create the contacts, then archive and merge the ones that say so; returns how many."""
    plain = [
        {k: v for k, v in b.items() if k not in ("ContactStatus", "MergedInto")} for b in bodies
    ]
    created, _ = contacts.seed(org, plain, now)
    ids = {contact["Name"]: contact["ContactID"] for contact in created}
    one_org = {"orgs": {"": org}}  # the actions look the contact up in these organisations
    for body in bodies:
        contact_id = ids.get(body.get("Name", ""))
        if contact_id is None:
            continue
        if body.get("MergedInto") in ids:
            contacts.merge(one_org, contact_id, ids[body["MergedInto"]], now)
        elif body.get("ContactStatus") == "ARCHIVED":
            contacts.archive(one_org, contact_id, now)
    return len(created)


def load(path: Path | None, command_line_client: dict[str, Any]) -> Seed:
    """The seed file (if any), with the command line's app registered first."""
    seed = Seed(clients=[command_line_client])
    if path is None:
        return seed
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SeedError(f"seed file {path}: {error}") from error
    if not isinstance(data, dict) or set(data) - {"clients", "contacts"}:
        raise SeedError(f"seed file {path}: expected an object with clients and contacts")
    for client in data.get("clients", []):
        if not isinstance(client, dict) or not isinstance(client.get("client_id"), str):
            raise SeedError(f"seed file {path}: every client needs a client_id")
        if set(client) - CLIENT_FIELDS:
            raise SeedError(
                f"seed file {path}: unknown client fields {set(client) - CLIENT_FIELDS}"
            )
        seed.clients.append(client)
    for tenant_id, bodies in dict(data.get("contacts", {})).items():
        if not isinstance(bodies, list) or not all(isinstance(b, dict) for b in bodies):
            raise SeedError(f"seed file {path}: contacts of {tenant_id} must be a list of objects")
        seed.contacts[tenant_id.lower()] = bodies
    return seed
