"""Currencies and tracking categories: what an organisation's documents may name.

- Currencies (https://developer.xero.com/documentation/api/accounting/currencies): GET lists
  those the organisation uses, its base currency first; PUT adds one (multicurrency in real
  Xero needs a plan that has it: the sandbox lets every organisation add currencies).
- TrackingCategories (https://developer.xero.com/documentation/api/accounting/trackingcategories):
  categories with options, each ACTIVE or ARCHIVED; archived ones only with
  `includeArchived=true`; deleted ones are gone. At most 2 active categories and 100 options a
  category (Xero's documented limits).

A document's CurrencyCode must be one of the currencies, and each line's Tracking (at most 2,
by Name and Option, or by TrackingCategoryID and TrackingOptionID) must name an active option
of an active category. Xero's wording for those refusals is unconfirmed: marked [sandbox].
"""

import re
import uuid
from typing import Any

from xero_sandbox import common, schema, wire
from xero_sandbox.common import Ctx, body_items, is_guid, query_list
from xero_sandbox.seed import currency
from xero_sandbox.web import Response

CODE = re.compile(r"^[A-Z]{3}$")
MAX_ACTIVE_CATEGORIES = 2
MAX_OPTIONS = 100
MAX_LINE_TRACKING = 2
STATUSES = ("ACTIVE", "ARCHIVED")


def currency_codes(org: dict) -> set[str]:
    """The currencies the organisation's documents may be in: its base one and those added."""
    base = org["organisation"]["BaseCurrency"]
    return {base, *(c["Code"] for c in org.setdefault("currencies", [currency(base)]))}


def msg_currency(code: str) -> str:
    """A currency the organisation has not added."""
    return f"[sandbox] Organisation is not subscribed to currency {code}"


# Currencies ------------------------------------------------------------------------------------


def list_currencies(ctx: Ctx) -> Response:
    base = ctx.org["organisation"]["BaseCurrency"]
    rows = ctx.org.setdefault("currencies", [currency(base)])
    found, _, error = query_list(ctx, rows, type_name="Currency")
    return error or ctx.ok(Currencies=found)


def put_currencies(ctx: Ctx) -> Response:
    items, error = body_items(ctx, "Currencies", "Currency")
    if error:
        return error
    assert items is not None
    code = items[0].get("Code")
    if not isinstance(code, str) or not CODE.match(code):
        return _refused(ctx, "Currencies", items[0], f"[sandbox] {code!r} is not a currency code")
    if code in currency_codes(ctx.org):
        # Xero's wording is unconfirmed.
        return _refused(ctx, "Currencies", items[0], f"[sandbox] Currency {code} already exists")
    added = currency(code)
    ctx.org["currencies"].append(added)
    ctx.commit()
    return ctx.ok(Currencies=[added])


# Tracking categories ---------------------------------------------------------------------------


def _categories(org: dict) -> dict[str, dict]:
    found: dict[str, dict] = org.setdefault("tracking_categories", {})
    return found


def _shown(category: dict, archived: bool) -> dict:
    options = [o for o in category["Options"] if archived or o["Status"] == "ACTIVE"]
    return {**category, "Options": [dict(o) for o in options]}


def list_tracking_categories(ctx: Ctx) -> Response:
    archived = ctx.req.flag("includeArchived", default=False)
    rows = [
        _shown(c, archived)
        for c in _categories(ctx.org).values()
        if archived or c["Status"] == "ACTIVE"
    ]
    found, _, error = query_list(ctx, rows, type_name="TrackingCategory", default_order="Name ASC")
    return error or ctx.ok(TrackingCategories=found)


def get_tracking_category(ctx: Ctx) -> Response:
    category = _categories(ctx.org).get(ctx.req.params["key"].lower())
    if category is None:
        return Response.not_found()
    return ctx.ok(TrackingCategories=[_shown(category, True)])


def _name_error(ctx: Ctx, item: dict, taken: list[str], entity: str) -> str | None:
    name = item.get("Name")
    limit = schema.MAX_LENGTH[entity]["Name"]
    message = common.text_error("Name", name, limit)
    if message:
        return message
    if not isinstance(name, str) or not name.strip():
        return "[sandbox] Name is required"
    if name.strip().casefold() in (t.casefold() for t in taken):
        return f"[sandbox] The name {name.strip()} is already used"
    return None


def put_tracking_category(ctx: Ctx) -> Response:
    items, error = body_items(ctx, "TrackingCategories", "TrackingCategory")
    if error:
        return error
    assert items is not None
    item, categories = items[0], _categories(ctx.org)
    message = _name_error(ctx, item, [c["Name"] for c in categories.values()], "TrackingCategory")
    active = [c for c in categories.values() if c["Status"] == "ACTIVE"]
    if message is None and len(active) >= MAX_ACTIVE_CATEGORIES:
        most = MAX_ACTIVE_CATEGORIES
        message = f"[sandbox] An organisation has at most {most} active tracking categories"
    if message:
        return _refused(ctx, "TrackingCategories", item, message)
    category = {
        "TrackingCategoryID": str(uuid.uuid4()),
        "Name": item["Name"].strip(),
        "Status": "ACTIVE",
        "Options": [],
    }
    categories[category["TrackingCategoryID"]] = category
    ctx.commit()
    return ctx.ok(TrackingCategories=[_shown(category, True)])


def post_tracking_category(ctx: Ctx) -> Response:
    """Rename or archive (Status ARCHIVED) or restore a category."""
    category = _categories(ctx.org).get(ctx.req.params["key"].lower())
    if category is None:
        return Response.not_found()
    items, error = body_items(ctx, "TrackingCategories", "TrackingCategory")
    if error:
        return error
    assert items is not None
    item = items[0]
    others = [c["Name"] for c in _categories(ctx.org).values() if c is not category]
    message = _name_error(ctx, item, others, "TrackingCategory") if "Name" in item else None
    status = item.get("Status", category["Status"])
    if message is None and status not in STATUSES:
        message = "[sandbox] Status must be ACTIVE or ARCHIVED"
    if message:
        return _refused(ctx, "TrackingCategories", item, message)
    if "Name" in item:
        category["Name"] = item["Name"].strip()
    category["Status"] = status
    ctx.commit()
    return ctx.ok(TrackingCategories=[_shown(category, True)])


def delete_tracking_category(ctx: Ctx) -> Response:
    category = _categories(ctx.org).pop(ctx.req.params["key"].lower(), None)
    if category is None:
        return Response.not_found()
    ctx.commit()
    return ctx.ok(TrackingCategories=[{**_shown(category, True), "Status": "DELETED"}])


def put_tracking_options(ctx: Ctx) -> Response:
    category = _categories(ctx.org).get(ctx.req.params["key"].lower())
    if category is None:
        return Response.not_found()
    items, error = body_items(ctx, "Options", "TrackingOption")
    if error:
        return error
    assert items is not None
    item = items[0]
    message = _name_error(ctx, item, [o["Name"] for o in category["Options"]], "TrackingOption")
    if message is None and len(category["Options"]) >= MAX_OPTIONS:
        message = f"[sandbox] A tracking category has at most {MAX_OPTIONS} options"
    if message:
        return _refused(ctx, "Options", item, message)
    option = {
        "TrackingOptionID": str(uuid.uuid4()),
        "Name": item["Name"].strip(),
        "Status": "ACTIVE",
    }
    category["Options"].append(option)
    ctx.commit()
    return ctx.ok(Options=[dict(option)])


def post_tracking_option(ctx: Ctx) -> Response:
    """Rename an option, or archive or restore it (Status: [sandbox], Xero's page shows
    only Name)."""
    category = _categories(ctx.org).get(ctx.req.params["key"].lower())
    wanted = ctx.req.params["option"].lower()
    option = next(
        (o for o in (category or {}).get("Options", []) if o["TrackingOptionID"] == wanted), None
    )
    if category is None or option is None:
        return Response.not_found()
    items, error = body_items(ctx, "Options", "TrackingOption")
    if error:
        return error
    assert items is not None
    item = items[0]
    others = [o["Name"] for o in category["Options"] if o is not option]
    message = _name_error(ctx, item, others, "TrackingOption") if "Name" in item else None
    status = item.get("Status", option["Status"])
    if message is None and status not in STATUSES:
        message = "[sandbox] Status must be ACTIVE or ARCHIVED"
    if message:
        return _refused(ctx, "Options", item, message)
    if "Name" in item:
        option["Name"] = item["Name"].strip()
    option["Status"] = status
    ctx.commit()
    return ctx.ok(Options=[dict(option)])


def _refused(ctx: Ctx, key: str, item: dict, message: str) -> Response:
    element = {**item, "ValidationErrors": [{"Message": message}]}
    return Response.json(400, wire.validation_error([element]))


# A document line's tracking --------------------------------------------------------------------


def line_tracking(org: dict, raw: Any) -> tuple[list[dict], list[str]]:
    """A line's Tracking as stored (each with both IDs and both names), or why not."""
    if raw in (None, []):
        return [], []
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        return [], ["[sandbox] Tracking must be a list of objects"]
    if len(raw) > MAX_LINE_TRACKING:
        return [], [
            f"[sandbox] A line item can have at most {MAX_LINE_TRACKING} tracking categories"
        ]
    categories = list(_categories(org).values())
    tracked, errors = [], []
    for entry in raw:
        category = _find(
            categories, "TrackingCategoryID", entry.get("TrackingCategoryID"), entry.get("Name")
        )
        label = entry.get("Name") or entry.get("TrackingCategoryID")
        if category is None or category["Status"] != "ACTIVE":
            errors.append(f"[sandbox] The tracking category {label} does not exist or is archived")
            continue
        option = _find(
            category["Options"],
            "TrackingOptionID",
            entry.get("TrackingOptionID"),
            entry.get("Option"),
        )
        option_label = entry.get("Option") or entry.get("TrackingOptionID")
        if option is None or option["Status"] != "ACTIVE":
            errors.append(
                f"[sandbox] The tracking option {option_label} of {category['Name']} does not "
                "exist or is archived"
            )
            continue
        tracked.append(
            {
                "TrackingCategoryID": category["TrackingCategoryID"],
                "TrackingOptionID": option["TrackingOptionID"],
                "Name": category["Name"],
                "Option": option["Name"],
            }
        )
    if len({t["TrackingCategoryID"] for t in tracked}) < len(tracked):
        errors.append("[sandbox] A line item can name each tracking category once")
    return tracked, errors


def _find(rows: list[dict], id_field: str, row_id: Any, name: Any) -> dict | None:
    """The row with this ID, or else this name (case ignored)."""
    if isinstance(row_id, str) and is_guid(row_id):
        return next((r for r in rows if r[id_field] == row_id.lower()), None)
    if isinstance(name, str) and name.strip():
        wanted = name.strip().casefold()
        return next((r for r in rows if r["Name"].casefold() == wanted), None)
    return None
